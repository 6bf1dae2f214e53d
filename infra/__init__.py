"""Deployment-side code: Alembic migrations and DynamoDB table bootstrap from template.yaml."""
