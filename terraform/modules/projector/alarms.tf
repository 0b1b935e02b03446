# Signals that the read model is falling behind or losing records.
resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  count               = var.alarms.enabled ? 1 : 0
  alarm_name          = "${var.name}-iterator-age"
  alarm_description   = "The projector is more than ${var.alarms.iterator_age_threshold_s} s behind the table: search results are stale."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
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

resource "aws_cloudwatch_metric_alarm" "errors" {
  count               = var.alarms.enabled ? 1 : 0
  alarm_name          = "${var.name}-errors"
  alarm_description   = "The projector failed whole invocations (not single poison records): check its logs."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.alarms.error_threshold_per_5_min
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarms.actions
  ok_actions          = var.alarms.actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "queue_depth" {
  for_each            = var.alarms.enabled ? { dead-letter = aws_sqs_queue.dead_letter.name, on-failure = aws_sqs_queue.on_failure.name, cascade-on-failure = aws_sqs_queue.cascade_on_failure.name } : {}
  alarm_name          = "${var.name}-${each.key}-depth"
  alarm_description   = "Records or batches are parked in ${each.value}: inspect and replay them."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarms.actions
  ok_actions          = var.alarms.actions
  tags                = local.tags
}
