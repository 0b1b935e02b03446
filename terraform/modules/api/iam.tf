# One role per data source, each allowed exactly what its resolvers do (docs/design.md §7):
#   commands: write the table (transactions: Put/Update/Delete + ConditionCheck) and query the keys a
#             delete takes with it (a listing's reviews), never search;
#   queries:  read the table and its indices, never write;
#   search:   search and count through the read aliases, nothing else.
locals {
  dynamodb_permissions = {
    commands = {
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:Query"]
      resources = [var.table.arn]
    }
    queries = {
      actions   = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"]
      resources = concat([var.table.arn], var.table.index_arns)
    }
  }
  search_permissions = var.search.engine == "domain" ? {
    actions   = ["es:ESHttpGet", "es:ESHttpPost"]
    resources = flatten([for action in ["_search", "_count"] : [for alias in local.read_aliases : "${var.search.resource_arn}/${alias}/${action}"]])
    } : {
    actions   = ["aoss:APIAccessAll"]
    resources = [var.search.resource_arn]
  }
  # Every data source except NONE gets a role; its permissions are chosen by its manifest type and name.
  data_source_permissions = {
    for name, source in local.manifest.data_sources : name => (
      source.type == "AMAZON_DYNAMODB" ? lookup(local.dynamodb_permissions, name, null) : local.search_permissions
    ) if source.type != "NONE"
  }

  # The confused-deputy guard: only this API may assume the roles.
  appsync_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "appsync.amazonaws.com" }
      Condition = {
        StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
        ArnLike      = { "aws:SourceArn" = aws_appsync_graphql_api.this.arn }
      }
    }]
  })
}

resource "aws_iam_role" "data_source" {
  for_each           = local.data_source_permissions
  name               = "${var.name}-${each.key}"
  assume_role_policy = local.appsync_trust
  tags               = local.tags

  lifecycle {
    precondition {
      condition     = each.value != null
      error_message = "resolvers/manifest.json names DynamoDB data source '${each.key}', which has no permission set in the api module (known: commands, queries)."
    }
  }
}

resource "aws_iam_role_policy" "data_source" {
  for_each = local.data_source_permissions
  name     = each.key
  role     = aws_iam_role.data_source[each.key].id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = each.value.actions, Resource = each.value.resources }]
  })
}

# Logging role: AppSync writes only its own log group.
resource "aws_iam_role" "logs" {
  name = "${var.name}-logs"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "appsync.amazonaws.com" }
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
  tags = local.tags
}

resource "aws_iam_role_policy" "logs" {
  name = "logs"
  role = aws_iam_role.logs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = [aws_cloudwatch_log_group.api.arn, "${aws_cloudwatch_log_group.api.arn}:*"]
    }]
  })
}
