"""Lambda entry point of the monitoring function (decorator stack in shared.api.create_handler)."""

from monitoring_api.routes import router
from shared.api import create_handler

app, lambda_handler = create_handler(router)
