output "graphql_url" {
  description = "GraphQL endpoint."
  value       = aws_appsync_graphql_api.this.uris["GRAPHQL"]
}

output "api_id" {
  description = "ID of the API."
  value       = aws_appsync_graphql_api.this.id
}

output "api_arn" {
  description = "ARN of the API."
  value       = aws_appsync_graphql_api.this.arn
}

output "api_key" {
  description = "The development API key; null unless api_key_enabled."
  value       = try(aws_appsync_api_key.this[0].key, null)
  sensitive   = true
}

output "user_pool_id" {
  description = "Cognito user pool that signs in the frontend's users."
  value       = local.create_pool ? aws_cognito_user_pool.this[0].id : var.user_pool_id
}

output "user_pool_client_id" {
  description = "App client the frontend uses."
  value       = local.create_pool ? aws_cognito_user_pool_client.this[0].id : var.user_pool_client_id
}

output "search_role_arn" {
  description = "Role of the search data source (admit it in the domain's access policy; map it to a read-only role in fine-grained access control)."
  value       = try(aws_iam_role.data_source["search"].arn, null)
}

output "data_source_role_arns" {
  description = "Role of each data source, by data source name."
  value       = { for name, role in aws_iam_role.data_source : name => role.arn }
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL; null when the WAF is off."
  value       = try(aws_wafv2_web_acl.this[0].arn, null)
}

output "authentication_types" {
  description = "Default then additional authentication types of the API."
  value       = concat([aws_appsync_graphql_api.this.authentication_type], [for provider in aws_appsync_graphql_api.this.additional_authentication_provider : provider.authentication_type])
}

output "runtimes" {
  description = "Distinct runtimes of all resolvers and functions (name/version)."
  value       = distinct(concat([for r in aws_appsync_resolver.this : "${one(r.runtime).name}/${one(r.runtime).runtime_version}"], [for f in aws_appsync_function.this : "${one(f.runtime).name}/${one(f.runtime).runtime_version}"]))
}

output "log_config" {
  description = "The API's field-level logging settings."
  value = {
    field_log_level         = one(aws_appsync_graphql_api.this.log_config).field_log_level
    exclude_verbose_content = one(aws_appsync_graphql_api.this.log_config).exclude_verbose_content
  }
}

output "iam_policies" {
  description = "Every IAM policy document this module writes, by name (JSON)."
  value = merge(
    { for name, policy in aws_iam_role_policy.data_source : "data_source_${name}" => policy.policy },
    { for name, role in aws_iam_role.data_source : "data_source_${name}_assume" => role.assume_role_policy },
    { logs = aws_iam_role_policy.logs.policy, logs_assume = aws_iam_role.logs.assume_role_policy },
  )
}

output "environment_variables" {
  description = "What the resolvers read as ctx.env (TABLE_NAME, <FAMILY>_READ_ALIAS, IAM_CALLER_ROLES), written into their code at upload."
  value       = local.environment_variables
}

output "projection_signal_field_arn" {
  description = "ARN of Mutation.publishListingProjected, the projection signal's IAM-only field: grant appsync:GraphQL on exactly this to the projector's role."
  value       = "${aws_appsync_graphql_api.this.arn}/types/Mutation/fields/publishListingProjected"
}

output "user_pool_settings" {
  description = "Sign-up and threat protection of the user pool this module created (tier, advanced_security_mode, self_sign_up_enabled); null with an existing user_pool_id."
  value = local.create_pool ? {
    tier                   = aws_cognito_user_pool.this[0].user_pool_tier
    advanced_security_mode = one(aws_cognito_user_pool.this[0].user_pool_add_ons).advanced_security_mode
    self_sign_up_enabled   = !one(aws_cognito_user_pool.this[0].admin_create_user_config).allow_admin_create_user_only
  } : null
}
