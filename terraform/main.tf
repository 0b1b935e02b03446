# The whole stack: table -> stream -> projector -> search, and the AppSync API over table and search.
module "table" {
  source = "./modules/table"

  name                        = "${var.name}-table"
  deletion_protection_enabled = var.deletion_protection_enabled
  kms_key_arn                 = var.kms_key_arn
  tags                        = var.tags
}

module "search" {
  source = "./modules/search"

  name               = var.name
  engine             = var.search.engine
  profile            = var.search.profile
  engine_version     = var.search.engine_version
  cluster            = var.search.cluster
  master_user_arn    = var.search.master_user_arn
  writer_role_arns   = [module.projector.role_arn]
  purger_role_arns   = [module.projector.purge_role_arn]
  reader_role_arns   = compact([module.api.search_role_arn])
  kms_key_arn        = var.kms_key_arn
  log_retention_days = var.log_retention_days
  tags               = var.tags
}

module "projector" {
  source = "./modules/projector"

  name                 = "${var.name}-projector"
  package_file         = var.projector_package_file
  table_stream_arn     = module.table.table_stream_arn
  memory_size          = var.projector.memory_size
  reserved_concurrency = var.projector.reserved_concurrency
  log_level            = var.projector.log_level
  stream_mapping       = var.projector.stream_mapping
  settings             = { tombstone_retention_hours = var.projector.tombstone_retention_hours }
  # The scheduled tombstone purge (modules/projector/purge.tf).
  tombstone_purge_schedule = var.projector.tombstone_purge_schedule
  tombstone_purge_enabled  = var.projector.tombstone_purge_enabled
  # The review cascade (modules/projector/cascade.tf): deletes a deleted listing's remaining reviews.
  review_cascade_timeout = var.projector.review_cascade_timeout
  review_cascade_enabled = var.projector.review_cascade_enabled
  kms_key_arn            = var.kms_key_arn
  log_retention_days     = var.log_retention_days
  alarms                 = { actions = var.alarm_actions }
  search = {
    endpoint     = module.search.endpoint
    auth         = module.search.auth
    resource_arn = module.search.resource_arn
  }
  # The projection signal goes to the API's IAM-only publishListingProjected (modules/api).
  projection_signal = var.projector.projection_signal_enabled == false ? null : {
    graphql_url = module.api.graphql_url
    field_arn   = module.api.projection_signal_field_arn
  }
  tags = var.tags
}

locals {
  # Roles that publish to the API (mutations that only notify subscribers): the projector, when its
  # projection signal is on (publishListingProjected). Only its role resource is read, so no cycle.
  api_publisher_role_arns = var.projector.projection_signal_enabled == false ? [] : [module.projector.role_arn]
}

module "api" {
  source = "./modules/api"

  name                  = "${var.name}-api"
  api_key_enabled       = var.api.api_key_enabled
  introspection_enabled = var.api.introspection_enabled
  waf                   = { enabled = var.api.waf_enabled, rate_limit = var.api.waf_rate_limit }
  kms_key_arn           = var.kms_key_arn
  log_retention_days    = var.log_retention_days
  iam_caller_role_arns  = var.api.iam_caller_role_arns
  publisher_role_arns   = local.api_publisher_role_arns
  # Threat protection in prod unless the stack says otherwise; the pair is validated in the module.
  user_pool = {
    self_sign_up_enabled   = var.api.self_sign_up_enabled
    tier                   = coalesce(var.api.user_pool_tier, var.environment == "prod" ? "PLUS" : "ESSENTIALS")
    advanced_security_mode = coalesce(var.api.advanced_security_mode, var.environment == "prod" ? "ENFORCED" : "OFF")
  }
  table = {
    name       = module.table.table_name
    arn        = module.table.table_arn
    index_arns = values(module.table.table_index_arns)
  }
  search = {
    endpoint     = module.search.endpoint
    resource_arn = module.search.resource_arn
    engine       = module.search.engine
  }
  tags = var.tags
}
