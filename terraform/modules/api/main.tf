# The AppSync GraphQL API: schema from schema/, resolvers and functions from resolvers/manifest.json (the
# same manifest the local AppSync endpoint runs), one least-privilege role per data source.
locals {
  schema_file   = coalesce(var.schema_file, "${path.module}/../../../schema/schema.graphql")
  resolvers_dir = coalesce(var.resolvers_dir, "${path.module}/../../../resolvers")
  manifest      = jsondecode(file("${local.resolvers_dir}/manifest.json"))
  tags          = merge({ "appsync-cqrs:component" = "api" }, var.tags)
  create_pool   = var.user_pool_id == null
  runtime       = { name = "APPSYNC_JS", version = "1.0.0" }

  # Index families and their aliases: definitions/indices.json, which the projector, the ops commands and
  # the local AppSync endpoint read too (docs/design.md §4).
  index_families = jsondecode(file("${path.module}/../../definitions/indices.json"))
  read_aliases   = [for family in values(local.index_families) : family.read_alias]

  # What resolvers read as ctx.env.NAME (docs/design.md §7): the table, and each family's read alias as
  # <FAMILY>_READ_ALIAS (the local endpoint builds the same map: devstack/appsync/app.py).
  environment_variables = merge(
    { TABLE_NAME = var.table.name },
    { for name, family in local.index_families : "${upper(name)}_READ_ALIAS" => family.read_alias },
    { IAM_CALLER_ROLES = local.iam_caller_roles },
  )

  # The IAM callers' allow-list as resolvers/pipeline.js reads it: space-separated <account>:<role name>
  # (neither contains a space; role names may contain ',').
  iam_caller_roles = join(" ", distinct([
    for arn in concat(var.iam_caller_role_arns, var.publisher_role_arns) :
    join(":", regex(local.role_arn_parts, arn))
  ]))

  # hashicorp/aws 5.x cannot set a GraphQL API's environment variables (aws_appsync_graphql_api has no
  # such argument), so each ctx.env.NAME is replaced by its value's JSON string literal when the code is
  # uploaded: same value, same behaviour. An unknown NAME is left as it is, for the preconditions to reject.
  code = {
    for file in distinct(concat([for f in local.manifest.functions : f.file], [for r in local.manifest.resolvers : r.file])) :
    file => join("", [
      for i, piece in split("ctx.env.", file("${local.resolvers_dir}/${file}")) : (
        i == 0 ? piece :
        contains(keys(local.environment_variables), try(regex("^\\w+", piece), "")) ?
        "${jsonencode(local.environment_variables[regex("^\\w+", piece)])}${trimprefix(piece, regex("^\\w+", piece))}" :
        "ctx.env.${piece}"
      )
    ])
  }
}

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

resource "aws_appsync_graphql_api" "this" {
  name                 = var.name
  authentication_type  = "AMAZON_COGNITO_USER_POOLS"
  schema               = file(local.schema_file)
  xray_enabled         = var.xray_enabled
  introspection_config = var.introspection_enabled ? "ENABLED" : "DISABLED"

  user_pool_config {
    user_pool_id   = local.create_pool ? aws_cognito_user_pool.this[0].id : var.user_pool_id
    aws_region     = data.aws_region.current.name
    default_action = "ALLOW"
  }

  additional_authentication_provider {
    authentication_type = "AWS_IAM"
  }

  dynamic "additional_authentication_provider" {
    for_each = var.api_key_enabled ? ["API_KEY"] : []
    content {
      authentication_type = additional_authentication_provider.value
    }
  }

  # ERROR only, and never request/response contents: they carry users' data.
  log_config {
    cloudwatch_logs_role_arn = aws_iam_role.logs.arn
    field_log_level          = "ERROR"
    exclude_verbose_content  = true
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = local.create_pool || var.user_pool_client_id != null
      error_message = "user_pool_client_id is required with user_pool_id."
    }
    precondition {
      condition     = alltrue([for name in keys(try(local.manifest.environment_variables, {})) : contains(keys(local.environment_variables), name)])
      error_message = "resolvers/manifest.json declares environment variables the api module does not provide (it provides ${join(", ", keys(local.environment_variables))})."
    }
  }
}

resource "aws_appsync_api_key" "this" {
  count       = var.api_key_enabled ? 1 : 0
  api_id      = aws_appsync_graphql_api.this.id
  description = "Development only: read-only queries."
  expires     = var.api_key_expires
}

# AppSync would create this group itself, without retention.
resource "aws_cloudwatch_log_group" "api" {
  name              = "/aws/appsync/apis/${aws_appsync_graphql_api.this.id}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = local.tags
}
