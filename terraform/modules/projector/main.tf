# The projector Lambda: reads the table's stream, writes OpenSearch with versioned _bulk (docs/design.md §2-§5).
locals {
  # Partition from the stream ARN, so no data source is needed (they fail offline and in mocked plans).
  partition = split(":", var.table_stream_arn)[1]
  tags      = merge({ "appsync-cqrs:component" = "projector" }, var.tags)

  # One definition for the build and the deployment: a zip's native code loads only on its own target.
  runtime_definition = jsondecode(file("${path.module}/../../definitions/projector_runtime.json"))
  runtime            = coalesce(var.runtime, local.runtime_definition.runtime)
  architecture       = coalesce(var.architecture, local.runtime_definition.architecture)

  environment = merge({
    OPENSEARCH_ENDPOINT          = var.search.endpoint
    OPENSEARCH_AUTH              = var.search.auth
    DEAD_LETTER_QUEUE_URL        = aws_sqs_queue.dead_letter.url
    BULK_MAX_BYTES               = tostring(var.settings.bulk_max_bytes)
    BULK_MAX_ACTIONS             = tostring(var.settings.bulk_max_actions)
    TOMBSTONE_RETENTION_HOURS    = tostring(var.settings.tombstone_retention_hours)
    LOG_ITEM_CONTENTS            = tostring(var.settings.log_item_contents)
    POWERTOOLS_SERVICE_NAME      = "projector"
    POWERTOOLS_METRICS_NAMESPACE = "appsync-cqrs"
    LOG_LEVEL                    = var.log_level
    }, var.projection_signal == null ? {} : {
    # The projection signal (projector/signal.py): unset means off.
    PROJECTION_SIGNAL_URL       = var.projection_signal.graphql_url
    PROJECTION_SIGNAL_BUDGET_MS = tostring(var.projection_signal.budget_ms)
  })
}

# Created here (not by Lambda on first run) so retention and encryption are ours.
resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = local.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Only the stream event source mapping invokes it (synchronously); failed batches go to its on-failure queue, poison records to the dead-letter queue.
  #checkov:skip=CKV_AWS_117:The domain is public with fine-grained access control and IAM, because AppSync's OpenSearch data source supports only public endpoints; no VPC resources to reach.
  #checkov:skip=CKV_AWS_272:Code signing is an account-level choice (a signing profile); the zip is built and pinned by CI.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is opt-in (var.reserved_concurrency): concurrency is already bounded by shards x parallelization factor.
  function_name                  = var.name
  description                    = "appsync-cqrs projector: DynamoDB stream to OpenSearch"
  role                           = aws_iam_role.this.arn
  filename                       = var.package_file
  source_code_hash               = filebase64sha256(var.package_file)
  handler                        = var.handler
  runtime                        = local.runtime
  architectures                  = [local.architecture]
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency == null ? -1 : var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    #checkov:skip=CKV_AWS_173:The environment holds endpoints and limits, no secrets; a customer-managed key is opt-in through var.kms_key_arn.
    variables = local.environment
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tags = local.tags

  lifecycle {
    # The definitions file is edited by hand; the variables' validations do not see it.
    precondition {
      condition     = contains(["python3.12", "python3.13"], local.runtime) && contains(["arm64", "x86_64"], local.architecture)
      error_message = "definitions/projector_runtime.json must name runtime python3.12 or python3.13 and architecture arm64 or x86_64."
    }
  }

  depends_on = [aws_iam_role_policy.this, aws_cloudwatch_log_group.this]
}
