# One role, exact actions on exact resources. X-Ray accepts no resource narrower than "*", so that comes
# from the AWS-managed policy rather than a "*" of our own.
resource "aws_iam_role" "this" {
  name = "${var.name}-projector"
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

locals {
  search_arn = var.search.resource_arn
  # Index families and their aliases: definitions/indices.json, which the projector (bundled in its zip),
  # the ops commands and the local stack read too (docs/design.md §4).
  index_families = values(jsondecode(file("${path.module}/../../definitions/indices.json")))
  # Exactly the two requests the projector's Lambda makes (projector/bulk.py, projector/aliases.py):
  # POST /_bulk, and GET /_alias/<write alias> to learn which indices to write. IAM cannot see the
  # indices named inside a _bulk body; fine-grained access control limits those to the entity indices
  # (scripts/search_access.py, role projector_writer).
  search_statements = var.search.auth == "sigv4" ? [
    {
      Sid      = "WriteTheReadModel"
      Effect   = "Allow"
      Action   = ["es:ESHttpPost"]
      Resource = ["${local.search_arn}/_bulk"]
    },
    {
      Sid      = "ResolveTheWriteAliases"
      Effect   = "Allow"
      Action   = ["es:ESHttpGet"]
      Resource = [for family in local.index_families : "${local.search_arn}/_alias/${family.write_alias}"]
    },
    ] : [{
      # Serverless authorizes per index in its data access policy; IAM only opens the collection.
      Sid      = "WriteTheReadModel"
      Effect   = "Allow"
      Action   = ["aoss:APIAccessAll"]
      Resource = [local.search_arn]
  }]
}

# Policies are plain jsonencode() so tests can read every statement from the plan.
locals {
  statements = concat([
    {
      Sid      = "ReadTheStream"
      Effect   = "Allow"
      Action   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
      Resource = [var.table_stream_arn]
    },
    ], local.search_statements, [
    {
      Sid      = "ParkPoisonRecordsAndFailedBatches"
      Effect   = "Allow"
      Action   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
      Resource = [aws_sqs_queue.dead_letter.arn, aws_sqs_queue.on_failure.arn]
    },
    {
      Sid      = "WriteItsLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = ["${aws_cloudwatch_log_group.this.arn}:*"]
    },
    ], var.projection_signal == null ? [] : [{
      # Exactly the projection signal's mutation field: the role can call nothing else of the API.
      Sid      = "PublishTheProjectionSignal"
      Effect   = "Allow"
      Action   = ["appsync:GraphQL"]
      Resource = [var.projection_signal.field_arn]
      }], var.kms_key_arn == null ? [] : [{
      Sid      = "UseTheCustomerManagedKey"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource = [var.kms_key_arn]
  }])
}

resource "aws_iam_role_policy" "this" {
  name   = "projector"
  role   = aws_iam_role.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.statements })
}

resource "aws_iam_role_policy_attachment" "xray" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}
