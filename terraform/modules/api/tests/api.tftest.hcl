# Mocked AWS provider; the module reads the real schema/ and resolvers/ unless a run points elsewhere.
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_resource "aws_appsync_graphql_api" {
    defaults = {
      id   = "abcdefghijklmnopqrstuvwxyz"
      arn  = "arn:aws:appsync:us-east-1:123456789012:apis/abcdefghijklmnopqrstuvwxyz"
      uris = { GRAPHQL = "https://abcdefghijklmnopqrstuvwxyz.appsync-api.us-east-1.amazonaws.com/graphql" }
    }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/cqrs-test-role" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/appsync/apis/abcdefghijklmnopqrstuvwxyz" }
  }
  mock_resource "aws_cognito_user_pool" {
    defaults = {
      id  = "us-east-1_AbCdEfGhI"
      arn = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEfGhI"
    }
  }
  mock_resource "aws_wafv2_web_acl" {
    defaults = { arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/cqrs-test-api/0b1c2d3e" }
  }
}

# The web ACL's schema is the provider's largest and costs ~1.5 s of CPU per run: it is off for every run
# except the one that checks the defaults (where `waf = {}` means the module's default, on).
variables {
  waf  = { enabled = false }
  name = "cqrs-test"
  table = {
    name       = "cqrs-test-table"
    arn        = "arn:aws:dynamodb:us-east-1:123456789012:table/cqrs-test-table"
    index_arns = ["arn:aws:dynamodb:us-east-1:123456789012:table/cqrs-test-table/index/byOwner"]
  }
  search = {
    endpoint     = "https://search-cqrs-test-abc.us-east-1.es.amazonaws.com"
    resource_arn = "arn:aws:es:us-east-1:123456789012:domain/cqrs-test"
    engine       = "domain"
  }
}

run "defaults_follow_the_manifest_and_least_privilege" {
  command = apply

  variables {
    waf = {}
  }

  assert {
    condition     = length(aws_appsync_resolver.this) == length(jsondecode(file("../../../resolvers/manifest.json")).resolvers) && length(aws_appsync_function.this) == length(jsondecode(file("../../../resolvers/manifest.json")).functions)
    error_message = "every resolver and function of resolvers/manifest.json must be deployed"
  }

  assert {
    condition = alltrue(concat(
      [for r in aws_appsync_resolver.this : one(r.runtime).name == "APPSYNC_JS" && one(r.runtime).runtime_version == "1.0.0"],
      [for f in aws_appsync_function.this : one(f.runtime).name == "APPSYNC_JS" && one(f.runtime).runtime_version == "1.0.0"],
    ))
    error_message = "every resolver and function must run on APPSYNC_JS 1.0.0"
  }

  assert {
    condition     = one(aws_appsync_resolver.this["Mutation.createListing"].pipeline_config).functions == tolist([aws_appsync_function.this["validateListingInput"].function_id, aws_appsync_function.this["putListing"].function_id])
    error_message = "createListing must run validateListingInput then putListing"
  }

  assert {
    condition     = aws_appsync_resolver.this["Query.searchListings"].kind == "PIPELINE" && one(aws_appsync_resolver.this["Query.searchListings"].pipeline_config).functions == tolist([aws_appsync_function.this["searchListings"].function_id]) && aws_appsync_function.this["searchListings"].data_source == "search"
    error_message = "searchListings runs through pipeline.js (the caller check), then one function on the search data source"
  }

  assert {
    condition     = alltrue([for r in aws_appsync_resolver.this : r.kind == "PIPELINE" && strcontains(r.code, "authorizeCaller(ctx)")])
    error_message = "every resolver runs pipeline.js, whose before step checks the caller"
  }

  assert {
    condition     = { for name, ds in aws_appsync_datasource.this : name => ds.type } == { commands = "AMAZON_DYNAMODB", queries = "AMAZON_DYNAMODB", search = "AMAZON_OPENSEARCH_SERVICE", none = "NONE" }
    error_message = "data sources and types must match the manifest"
  }

  assert {
    condition     = alltrue([for f in aws_appsync_function.this : !strcontains(f.code, "ctx.env.")]) && strcontains(aws_appsync_function.this["putListing"].code, "\"cqrs-test-table\"")
    error_message = "ctx.env.TABLE_NAME must be replaced by the table's name"
  }

  assert {
    condition     = aws_appsync_graphql_api.this.authentication_type == "AMAZON_COGNITO_USER_POOLS" && one(aws_appsync_graphql_api.this.user_pool_config).user_pool_id == "us-east-1_AbCdEfGhI"
    error_message = "people sign in through the module's Cognito user pool"
  }

  assert {
    condition     = [for p in aws_appsync_graphql_api.this.additional_authentication_provider : p.authentication_type] == ["AWS_IAM"] && length(aws_appsync_api_key.this) == 0
    error_message = "IAM for backends, and no API key unless asked"
  }

  assert {
    condition     = one(aws_appsync_graphql_api.this.log_config).field_log_level == "ERROR" && one(aws_appsync_graphql_api.this.log_config).exclude_verbose_content
    error_message = "field logs at ERROR, without request and response contents"
  }

  assert {
    condition     = aws_appsync_graphql_api.this.introspection_config == "DISABLED" && aws_appsync_graphql_api.this.xray_enabled
    error_message = "introspection off and tracing on by default"
  }

  assert {
    condition     = aws_cognito_user_pool_client.this[0].generate_secret == false && aws_cognito_user_pool.this[0].deletion_protection == "ACTIVE"
    error_message = "a public browser client, and a user pool that cannot be deleted by accident"
  }

  assert {
    condition     = one(aws_cognito_user_pool.this[0].admin_create_user_config).allow_admin_create_user_only && aws_cognito_user_pool.this[0].user_pool_tier == "ESSENTIALS" && one(aws_cognito_user_pool.this[0].user_pool_add_ons).advanced_security_mode == "OFF"
    error_message = "by default only administrators create users, on the Essentials plan, without threat protection"
  }

  assert {
    condition     = alltrue(flatten([for p in aws_iam_role_policy.data_source : [for s in jsondecode(p.policy).Statement : [for r in s.Resource : r != "*"]]]))
    error_message = "no data source policy may use a * resource"
  }

  assert {
    condition     = alltrue([for a in jsondecode(aws_iam_role_policy.data_source["queries"].policy).Statement[0].Action : contains(["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"], a)])
    error_message = "the query role cannot write"
  }

  assert {
    condition     = alltrue([for a in jsondecode(aws_iam_role_policy.data_source["commands"].policy).Statement[0].Action : startswith(a, "dynamodb:")]) && contains(jsondecode(aws_iam_role_policy.data_source["commands"].policy).Statement[0].Action, "dynamodb:ConditionCheckItem") && contains(jsondecode(aws_iam_role_policy.data_source["commands"].policy).Statement[0].Action, "dynamodb:Query")
    error_message = "the command role writes the table (with ConditionCheckItem for transactions), queries it (a listing's reviews for deleteListing) and cannot search"
  }

  assert {
    condition     = jsondecode(aws_iam_role_policy.data_source["search"].policy).Statement[0].Action == ["es:ESHttpGet", "es:ESHttpPost"] && alltrue([for r in jsondecode(aws_iam_role_policy.data_source["search"].policy).Statement[0].Resource : endswith(r, "/_search") || endswith(r, "/_count")])
    error_message = "the search role may only search the read aliases"
  }

  # The names come from definitions/indices.json; written out here on purpose.
  assert {
    condition = jsondecode(aws_iam_role_policy.data_source["search"].policy).Statement[0].Resource == [
      "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/listings/_search",
      "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/reviews/_search",
      "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/listings/_count",
      "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/reviews/_count",
    ]
    error_message = "the search role's paths are the read aliases of definitions/indices.json"
  }

  assert {
    condition     = output.environment_variables == { TABLE_NAME = "cqrs-test-table", LISTINGS_READ_ALIAS = "listings", REVIEWS_READ_ALIAS = "reviews", IAM_CALLER_ROLES = "" }
    error_message = "resolvers get the table, each family's read alias and the (by default empty) IAM allow-list as ctx.env"
  }

  assert {
    condition     = !strcontains(aws_appsync_function.this["searchListings"].code, "ctx.env.") && strcontains(aws_appsync_function.this["searchListings"].code, "path: `/$${\"listings\"}/_search`")
    error_message = "ctx.env.LISTINGS_READ_ALIAS must be replaced by the read alias"
  }

  assert {
    condition     = jsondecode(aws_iam_role.data_source["commands"].assume_role_policy).Statement[0].Condition.ArnLike["aws:SourceArn"] == aws_appsync_graphql_api.this.arn
    error_message = "only this API may assume its data source roles"
  }

  assert {
    condition     = !contains(keys(aws_iam_role.data_source), "none") && output.search_role_arn == "arn:aws:iam::123456789012:role/cqrs-test-role"
    error_message = "the NONE data source needs no role; the search role is an output"
  }

  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.logs.policy).Statement : alltrue([for r in s.Resource : startswith(r, aws_cloudwatch_log_group.api.arn)])])
    error_message = "AppSync may only write its own log group"
  }

  assert {
    condition     = toset([for r in aws_wafv2_web_acl.this[0].rule : r.name]) == toset(["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAnonymousIpList", "RatePerIp"])
    error_message = "the web ACL needs the managed rule groups and the rate limit"
  }

  assert {
    condition     = aws_wafv2_web_acl_association.this[0].resource_arn == aws_appsync_graphql_api.this.arn && aws_wafv2_web_acl_logging_configuration.this[0].log_destination_configs == toset([aws_cloudwatch_log_group.waf[0].arn])
    error_message = "the web ACL must guard the API and log"
  }
}

run "the_projection_signal_is_an_iam_only_mutation_on_the_none_data_source" {
  command = apply

  assert {
    condition     = aws_appsync_resolver.this["Mutation.publishListingProjected"].kind == "PIPELINE" && aws_appsync_function.this["publishListingProjected"].data_source == "none" && aws_appsync_datasource.this["none"].type == "NONE"
    error_message = "publishListingProjected must run pipeline.js's caller check, then resolve on the NONE data source (AppSync's pattern for events from a backend)"
  }

  assert {
    condition     = aws_appsync_resolver.this["Subscription.onListingProjected"].kind == "PIPELINE" && aws_appsync_function.this["onListingProjected"].data_source == "none" && strcontains(aws_appsync_function.this["onListingProjected"].code, "ctx.identity.sub")
    error_message = "onListingProjected needs its subscription resolver, which refuses a user another owner's signals"
  }

  assert {
    condition     = output.projection_signal_field_arn == "arn:aws:appsync:us-east-1:123456789012:apis/abcdefghijklmnopqrstuvwxyz/types/Mutation/fields/publishListingProjected"
    error_message = "the field ARN the projector's role is granted must name exactly Mutation.publishListingProjected"
  }

  assert {
    condition     = strcontains(aws_appsync_graphql_api.this.schema, "publishListingProjected(input: ListingProjectedInput!): ListingProjected @aws_iam\n")
    error_message = "publishListingProjected must be IAM-only in the deployed schema"
  }
}

run "development_api_key_without_waf" {
  command = apply

  variables {
    api_key_enabled = true
  }

  assert {
    condition     = contains([for p in aws_appsync_graphql_api.this.additional_authentication_provider : p.authentication_type], "API_KEY") && length(aws_appsync_api_key.this) == 1
    error_message = "api_key_enabled adds API-key auth and a key"
  }

  assert {
    condition     = length(aws_wafv2_web_acl.this) == 0 && length(aws_wafv2_web_acl_association.this) == 0
    error_message = "waf.enabled = false removes the web ACL"
  }
}

run "iam_callers_are_the_listed_roles_by_account_and_name" {
  command = apply

  variables {
    iam_caller_role_arns = [
      "arn:aws:iam::111122223333:role/cqrs-prod-seed",
      "arn:aws:iam::111122223333:role/ops/team-a/cqrs-prod-ops",
      "arn:aws:iam::111122223333:role/cqrs-prod-seed",
    ]
    publisher_role_arns = ["arn:aws-cn:iam::444455556666:role/cqrs,prod-projector"]
  }

  assert {
    condition     = output.environment_variables.IAM_CALLER_ROLES == "111122223333:cqrs-prod-seed 111122223333:cqrs-prod-ops 444455556666:cqrs,prod-projector"
    error_message = "the allow-list is <account>:<role name> of every caller and publisher, paths dropped (AppSync reports assumed roles without them), once each"
  }

  assert {
    condition     = strcontains(aws_appsync_resolver.this["Mutation.createListing"].code, "`$${\"111122223333:cqrs-prod-seed 111122223333:cqrs-prod-ops 444455556666:cqrs,prod-projector\" || ''}`") && !strcontains(aws_appsync_resolver.this["Mutation.createListing"].code, "ctx.env.")
    error_message = "pipeline.js gets the allow-list in place of ctx.env.IAM_CALLER_ROLES"
  }
}

run "rejects_an_iam_caller_that_is_not_a_role" {
  command = plan

  variables {
    iam_caller_role_arns = ["arn:aws:iam::111122223333:user/cqrs-prod-seed"]
  }

  expect_failures = [var.iam_caller_role_arns]
}

run "self_sign_up_and_threat_protection_on_plus" {
  command = apply

  variables {
    user_pool = { self_sign_up_enabled = true, tier = "PLUS", advanced_security_mode = "ENFORCED" }
  }

  assert {
    condition     = !one(aws_cognito_user_pool.this[0].admin_create_user_config).allow_admin_create_user_only && aws_cognito_user_pool.this[0].user_pool_tier == "PLUS" && one(aws_cognito_user_pool.this[0].user_pool_add_ons).advanced_security_mode == "ENFORCED"
    error_message = "self sign-up and enforced threat protection on the Plus plan, when asked for"
  }
}

run "rejects_threat_protection_below_plus" {
  command = plan

  variables {
    user_pool = { tier = "ESSENTIALS", advanced_security_mode = "ENFORCED" }
  }

  expect_failures = [var.user_pool]
}

run "serverless_search_is_a_signed_http_data_source" {
  command = apply

  variables {
    search = {
      endpoint     = "https://abc123.us-east-1.aoss.amazonaws.com"
      resource_arn = "arn:aws:aoss:us-east-1:123456789012:collection/abc123"
      engine       = "serverless"
    }
  }

  assert {
    condition     = aws_appsync_datasource.this["search"].type == "HTTP" && one(one(one(aws_appsync_datasource.this["search"].http_config).authorization_config).aws_iam_config).signing_service_name == "aoss"
    error_message = "a collection is reached through an HTTP data source signed for aoss"
  }

  assert {
    condition     = jsondecode(aws_iam_role_policy.data_source["search"].policy).Statement[0].Resource == ["arn:aws:aoss:us-east-1:123456789012:collection/abc123"]
    error_message = "the search role opens exactly the collection"
  }
}

run "fixture_manifest_is_read" {
  command = plan

  variables {
    resolvers_dir = "tests/fixtures/minimal"
  }

  assert {
    condition     = keys(aws_appsync_resolver.this) == ["Mutation.createListing", "Query.getListing"] && keys(aws_appsync_datasource.this) == ["commands", "none"]
    error_message = "the module must deploy what the given manifest lists, nothing else"
  }
}

run "rejects_an_unknown_environment_variable" {
  command = plan

  variables {
    resolvers_dir = "tests/fixtures/unknown_env"
  }

  expect_failures = [aws_appsync_function.this["putThing"]]
}

run "rejects_a_dynamodb_data_source_without_permissions" {
  command = plan

  variables {
    resolvers_dir = "tests/fixtures/unknown_source"
  }

  expect_failures = [aws_iam_role.data_source["audit"]]
}

run "rejects_a_table_arn_of_another_table" {
  command = plan

  variables {
    table = {
      name       = "cqrs-test-table"
      arn        = "arn:aws:dynamodb:us-east-1:123456789012:table/other"
      index_arns = []
    }
  }

  expect_failures = [var.table]
}

run "rejects_a_tiny_rate_limit" {
  command = plan

  variables {
    waf = { rate_limit = 10 }
  }

  expect_failures = [var.waf]
}
