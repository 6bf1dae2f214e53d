#!/usr/bin/env bash
# `make deploy-localstack`: build, deploy the SAM stack into LocalStack (docker compose up first),
# let the SchemaMigrations custom resource migrate Postgres, then print the API URL and curl /health.
#
# Uses `samlocal` (aws-sam-cli-local, in the SAM tool venv) when installed, else plain `sam` with
# AWS_ENDPOINT_URL pointing at LocalStack. Settings: samconfig.toml [localstack].
set -euo pipefail
cd "$(dirname "$0")/../.."

ENDPOINT="${LOCALSTACK_ENDPOINT:-http://localhost:4566}"
STACK="${STACK_NAME:-users-orders-api-local}"
SAM_VENV="${SAM_VENV:-.venv-sam}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ENDPOINT_URL="$ENDPOINT" SAM_CLI_TELEMETRY=0

if ! curl -fsS "$ENDPOINT/_localstack/init/ready" | grep -q '"completed": *true'; then
  echo "LocalStack is not ready at $ENDPOINT: run \`docker compose up -d --wait\` first" >&2
  exit 1
fi

if [[ -x "$SAM_VENV/bin/samlocal" ]]; then SAM=("$SAM_VENV/bin/samlocal"); else SAM=("$SAM_VENV/bin/sam"); fi
echo "== build (${SAM[0]})"
make sam-build
echo "== deploy $STACK to $ENDPOINT (migrations run as the SchemaMigrations custom resource)"
"${SAM[@]}" deploy --config-env localstack --stack-name "$STACK" --no-confirm-changeset \
  --no-fail-on-empty-changeset

# Stack outputs through boto3 (honours AWS_ENDPOINT_URL); the AWS CLI is not required.
output() {
  .venv/bin/python - "$STACK" "$1" <<'PY'
import sys, boto3
outputs = boto3.client("cloudformation").describe_stacks(StackName=sys.argv[1])["Stacks"][0].get("Outputs", [])
print(next((o["OutputValue"] for o in outputs if o["OutputKey"] == sys.argv[2]), ""))
PY
}
API_ID="$(output RestApiId)"
API_URL="$(output ApiUrl)"
STAGE="${API_URL##*/}"
echo "schema revision: $(output SchemaRevision)"
URL="http://${API_ID}.execute-api.localhost.localstack.cloud:4566/${STAGE}"
echo "API URL: $URL"
echo "         (same API: $ENDPOINT/_aws/execute-api/${API_ID}/${STAGE})"
echo "== curl \$URL/health"
curl -sS "$URL/health"; echo
