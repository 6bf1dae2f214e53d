#!/bin/bash
# LocalStack init hook (runs inside the container once all services are ready; `awslocal` is built in).
# Stores the JWT secret where the stack expects it (JwtSecretParameterName=users-orders-api-jwt-secret).
# Tables, functions and the API come from `make deploy-localstack`, not from here: the template is
# their only definition.
set -euo pipefail
# awslocal in init hooks needs credentials like any client (LocalStack accepts any).
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
awslocal ssm put-parameter \
  --name users-orders-api-jwt-secret \
  --type SecureString \
  --value "${JWT_SECRET:?JWT_SECRET must be set for the init hook}" \
  --overwrite >/dev/null
echo "init: SSM parameter users-orders-api-jwt-secret ready"
