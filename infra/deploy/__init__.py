"""Deployment helpers: the migrations custom resource and the sam build Makefile targets."""
