# Two queues with different contents: the dead-letter queue receives the poison records themselves (sent by
# the projector), the on-failure queue receives Lambda's metadata about batches it gave up on (shard and
# sequence numbers only), from which an operator replays the range.
locals {
  # Shared with the local stack (devstack/resources.py) and the projector's dead-letter size
  # (projector/dlq.py), so moto enforces the limit AWS does. 262,144 bytes is the most provider 5.100
  # accepts for max_message_size, and the queue's default.
  queues = jsondecode(file("${path.module}/../../definitions/queues.json"))
}

resource "aws_sqs_queue" "dead_letter" {
  name                      = "${var.name}-dead-letter"
  message_retention_seconds = local.queues.message_retention_seconds # 14 days, the maximum
  max_message_size          = local.queues.max_message_size
  kms_master_key_id         = var.kms_key_arn
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  tags                      = local.tags
}

resource "aws_sqs_queue" "on_failure" {
  name                      = "${var.name}-on-failure"
  message_retention_seconds = local.queues.message_retention_seconds
  max_message_size          = local.queues.max_message_size
  kms_master_key_id         = var.kms_key_arn
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  tags                      = local.tags
}
