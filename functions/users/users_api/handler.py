"""Lambda entry point of the users function (decorator stack in shared.api.create_handler)."""

from shared.api import create_handler
from users_api.routes import router

app, lambda_handler = create_handler(router)
