# The review cascade: a second consumer of the table's stream, from the same zip
# (projector.cascade.lambda_handler), that deletes the reviews a deleted listing leaves behind
# (docs/design.md §1; deleteListing removes at most 99 with the listing in one transaction). It is the only
# function that may delete from the table: the projector's role stays read-only on the stream.
locals {
  cascade_name = "${var.name}-cascade"
  # The table is the stream ARN's prefix (arn:...:table/<name>/stream/<label>): no extra input to keep in step.
  table_arn = split("/stream/", var.table_stream_arn)[0]

  # One definition with the local poller (devstack/poller.py reads it too): the filter passes only a
  # listing's REMOVE (pk LISTING#<id>, sk LISTING), so the function never runs for the table's other writes.
  cascade_definition = jsondecode(file("${path.module}/../../definitions/review_cascade.json"))
  cascade_mapping    = local.cascade_definition.stream_mapping

  cascade_environment = {
    TABLE_NAME = split("/", local.table_arn)[1]
    LOG_LEVEL  = var.log_level
  }

  cascade_statements = concat([
    {
      Sid      = "ReadTheStream"
      Effect   = "Allow"
      Action   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
      Resource = [var.table_stream_arn]
    },
    {
      # Exactly projector/cascade.py's calls: the listing that stands under the id (GetItem), its review
      # keys (Query on the base table, no index), and one conditional DeleteItem per orphaned review.
      Sid      = "DeleteOrphanedReviews"
      Effect   = "Allow"
      Action   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query"]
      Resource = [local.table_arn]
    },
    {
      # Lambda sends the on-failure metadata with the function's role.
      Sid      = "ReportGivenUpBatches"
      Effect   = "Allow"
      Action   = ["sqs:SendMessage"]
      Resource = [aws_sqs_queue.cascade_on_failure.arn]
    },
    {
      Sid      = "WriteItsLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = ["${aws_cloudwatch_log_group.cascade.arn}:*"]
    },
    ], var.kms_key_arn == null ? [] : [{
      Sid      = "UseTheCustomerManagedKey"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource = [var.kms_key_arn]
  }])
}

resource "aws_cloudwatch_log_group" "cascade" {
  name              = "/aws/lambda/${local.cascade_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = local.tags
}

# Batches the mapping gave up on (retries or record age exhausted): their listings may still have
# orphaned reviews. Lambda writes shard and sequence numbers only; replay the range to finish them.
resource "aws_sqs_queue" "cascade_on_failure" {
  name                      = "${local.cascade_name}-on-failure"
  message_retention_seconds = local.queues.message_retention_seconds
  max_message_size          = local.queues.max_message_size
  kms_master_key_id         = var.kms_key_arn
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  tags                      = local.tags
}

resource "aws_iam_role" "cascade" {
  name = local.cascade_name
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

resource "aws_iam_role_policy" "cascade" {
  name   = "review-cascade"
  role   = aws_iam_role.cascade.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.cascade_statements })
}

resource "aws_iam_role_policy_attachment" "cascade_xray" {
  role       = aws_iam_role.cascade.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

resource "aws_lambda_function" "cascade" {
  #checkov:skip=CKV_AWS_116:Only the stream event source mapping invokes it (synchronously); batches it gives up on go to its on-failure queue.
  #checkov:skip=CKV_AWS_117:It reaches only DynamoDB, a public AWS endpoint; no VPC resources to reach.
  #checkov:skip=CKV_AWS_272:Code signing is an account-level choice (a signing profile); the zip is built and pinned by CI.
  #checkov:skip=CKV_AWS_115:Concurrency is bounded by shards x parallelization factor of its one mapping; reserving would take from the account's pool.
  function_name    = local.cascade_name
  description      = "appsync-cqrs: delete the reviews a deleted listing leaves behind"
  role             = aws_iam_role.cascade.arn
  filename         = var.package_file
  source_code_hash = filebase64sha256(var.package_file)
  handler          = "projector.cascade.lambda_handler"
  runtime          = local.runtime
  architectures    = [local.architecture]
  memory_size      = 256
  timeout          = var.review_cascade_timeout
  kms_key_arn      = var.kms_key_arn

  environment {
    #checkov:skip=CKV_AWS_173:The environment holds a table name and a log level, no secrets; a customer-managed key is opt-in through var.kms_key_arn.
    variables = local.cascade_environment
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.cascade.name
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.cascade, aws_cloudwatch_log_group.cascade]
}

resource "aws_lambda_event_source_mapping" "cascade" {
  event_source_arn                   = var.table_stream_arn
  function_name                      = aws_lambda_function.cascade.arn
  enabled                            = var.review_cascade_enabled
  starting_position                  = local.cascade_mapping.starting_position
  batch_size                         = local.cascade_mapping.batch_size
  maximum_batching_window_in_seconds = local.cascade_mapping.maximum_batching_window_in_seconds
  maximum_retry_attempts             = local.cascade_mapping.maximum_retry_attempts
  maximum_record_age_in_seconds      = local.cascade_mapping.maximum_record_age_in_seconds
  bisect_batch_on_function_error     = local.cascade_mapping.bisect_batch_on_function_error
  parallelization_factor             = local.cascade_mapping.parallelization_factor
  function_response_types            = local.cascade_mapping.function_response_types

  filter_criteria {
    dynamic "filter" {
      for_each = local.cascade_definition.filter_patterns
      content {
        pattern = jsonencode(filter.value)
      }
    }
  }

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.cascade_on_failure.arn
    }
  }

  tags = local.tags

  lifecycle {
    # The definitions file is edited by hand; the handler reports failed records and needs this to be heard.
    precondition {
      condition = (
        contains(local.cascade_mapping.function_response_types, "ReportBatchItemFailures") &&
        local.cascade_mapping.maximum_retry_attempts >= 0 && local.cascade_mapping.maximum_record_age_in_seconds >= 60
      )
      error_message = "definitions/review_cascade.json must list ReportBatchItemFailures and bound retries and record age (no -1)."
    }
  }

  depends_on = [aws_iam_role_policy.cascade]
}

# Both say orphaned reviews are piling up: the cascade is failing (iterator age grows while it retries a
# record), or it gave up on a batch (on-failure depth, in alarms.tf).
resource "aws_cloudwatch_metric_alarm" "cascade_iterator_age" {
  count               = var.alarms.enabled ? 1 : 0
  alarm_name          = "${local.cascade_name}-iterator-age"
  alarm_description   = "The review cascade is more than ${var.alarms.iterator_age_threshold_s} s behind the table: deleted listings' reviews are still readable. Check ${aws_cloudwatch_log_group.cascade.name}."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = aws_lambda_function.cascade.function_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.alarms.iterator_age_threshold_s * 1000
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarms.actions
  ok_actions          = var.alarms.actions
  tags                = local.tags
}
