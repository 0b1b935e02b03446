# The scheduled tombstone purge: a second function from the same zip (projector.purge.lambda_handler) that
# deletes tombstones older than settings.tombstone_retention_hours from every index behind each write alias.
# It reads the projector's own environment variables (no dead-letter queue: it never dead-letters).
locals {
  purge_name = "${var.name}-purge"

  purge_environment = {
    OPENSEARCH_ENDPOINT          = var.search.endpoint
    OPENSEARCH_AUTH              = var.search.auth
    TOMBSTONE_RETENTION_HOURS    = tostring(var.settings.tombstone_retention_hours)
    POWERTOOLS_SERVICE_NAME      = "projector-purge"
    POWERTOOLS_METRICS_NAMESPACE = "appsync-cqrs"
    LOG_LEVEL                    = var.log_level
  }

  # Only the purge's two requests: GET /_alias/<entity>-write, POST /<index>/_delete_by_query.
  purge_search_statement = var.search.auth == "sigv4" ? {
    actions = ["es:ESHttpGet", "es:ESHttpPost"]
    resources = concat(
      [for family in local.index_families : "${local.search_arn}/_alias/${family.write_alias}"],
      [for family in local.index_families : "${local.search_arn}/${family.index_prefix}*/_delete_by_query"],
    )
    } : {
    # Serverless authorizes per index in its data access policy; IAM only opens the collection.
    actions   = ["aoss:APIAccessAll"]
    resources = [local.search_arn]
  }
}

resource "aws_cloudwatch_log_group" "purge" {
  name              = "/aws/lambda/${local.purge_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = local.tags
}

resource "aws_iam_role" "purge" {
  name = "${var.name}-purge"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
  tags = local.tags
}

resource "aws_iam_role_policy" "purge" {
  name = "tombstone-purge"
  role = aws_iam_role.purge.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid      = "PurgeOldTombstones"
        Effect   = "Allow"
        Action   = local.purge_search_statement.actions
        Resource = local.purge_search_statement.resources
      },
      {
        Sid      = "WriteItsLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.purge.arn}:*"]
      },
      ], var.kms_key_arn == null ? [] : [{
        Sid      = "UseTheCustomerManagedKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [var.kms_key_arn]
    }])
  })
}

resource "aws_iam_role_policy_attachment" "purge_xray" {
  role       = aws_iam_role.purge.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

resource "aws_lambda_function" "purge" {
  #checkov:skip=CKV_AWS_116:Invoked only by its schedule; a failed run raises, the errors alarm fires, and the next run purges everything again (idempotent).
  #checkov:skip=CKV_AWS_117:The domain is public with fine-grained access control and IAM, because AppSync's OpenSearch data source supports only public endpoints; no VPC resources to reach.
  #checkov:skip=CKV_AWS_272:Code signing is an account-level choice (a signing profile); the zip is built and pinned by CI.
  #checkov:skip=CKV_AWS_115:One run at a time is enough; reserved concurrency of 1 would take from the account's pool for a function that runs minutes a day.
  function_name    = local.purge_name
  description      = "appsync-cqrs: purge tombstones older than ${var.settings.tombstone_retention_hours} h from OpenSearch"
  role             = aws_iam_role.purge.arn
  filename         = var.package_file
  source_code_hash = filebase64sha256(var.package_file)
  handler          = "projector.purge.lambda_handler"
  runtime          = local.runtime
  architectures    = [local.architecture]
  memory_size      = 256
  timeout          = var.tombstone_purge_timeout
  kms_key_arn      = var.kms_key_arn

  environment {
    #checkov:skip=CKV_AWS_173:The environment holds an endpoint and a retention, no secrets; a customer-managed key is opt-in through var.kms_key_arn.
    variables = local.purge_environment
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.purge.name
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.purge, aws_cloudwatch_log_group.purge]
}

# Disabling keeps the function (an operator can still invoke it by hand) and only stops the schedule.
resource "aws_cloudwatch_event_rule" "purge" {
  name                = local.purge_name
  description         = "Runs ${local.purge_name}: tombstones older than ${var.settings.tombstone_retention_hours} h leave OpenSearch."
  schedule_expression = var.tombstone_purge_schedule
  state               = var.tombstone_purge_enabled ? "ENABLED" : "DISABLED"
  tags                = local.tags
}

resource "aws_cloudwatch_event_target" "purge" {
  rule = aws_cloudwatch_event_rule.purge.name
  arn  = aws_lambda_function.purge.arn
}

resource "aws_lambda_permission" "purge" {
  statement_id  = "AllowTheTombstonePurgeSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.purge.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.purge.arn
}

resource "aws_cloudwatch_metric_alarm" "purge_errors" {
  count             = var.alarms.enabled ? 1 : 0
  alarm_name        = "${local.purge_name}-errors"
  alarm_description = "The tombstone purge failed (OpenSearch unreachable or refusing, a write alias missing, bad configuration): check ${aws_cloudwatch_log_group.purge.name}."
  namespace         = "AWS/Lambda"
  metric_name       = "Errors"
  dimensions        = { FunctionName = aws_lambda_function.purge.function_name }
  statistic         = "Sum"
  period            = 300
  # The function runs every few hours: "ignore" holds the alarm state between runs, so a failure stays
  # in ALARM until a later run succeeds (Lambda then reports Errors = 0).
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "ignore"
  alarm_actions       = var.alarms.actions
  ok_actions          = var.alarms.actions
  tags                = local.tags
}
