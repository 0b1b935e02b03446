# ---------------------------------------------------------------------------------------------------------
# Stack
# ---------------------------------------------------------------------------------------------------------
variable "name" {
  description = "Prefix of every resource name, e.g. cqrs-prod (3-20 characters: lower-case letters, digits, '-')."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,19}$", var.name))
    error_message = "name must be 3-20 characters of lower-case letters, digits or '-', starting with a letter (it prefixes an OpenSearch domain name, which allows 28)."
  }
}

variable "environment" {
  description = "Environment label. Valid values: dev, prod."
  type        = string

  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be dev or prod."
  }
}

variable "region" {
  description = "AWS region, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the table, queues, logs and domain; null uses AWS-managed keys (encryption stays on)."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days to keep every log group of the stack (a value CloudWatch Logs accepts); null keeps each module's default (365)."
  type        = number
  default     = null
}

# ---------------------------------------------------------------------------------------------------------
# Table
# ---------------------------------------------------------------------------------------------------------
variable "deletion_protection_enabled" {
  description = "Protect the table (the source of truth) against deletion. On unless a throw-away stack turns it off."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------------------
variable "search" {
  description = <<-EOT
    The read model. engine: domain (serverless is refused, see its validation); profile: dev (one node) or prod (3 AZs, dedicated
    masters); master_user_arn: the IAM role administrators assume (fine-grained access control master);
    cluster: sizing overrides (see modules/search).
  EOT
  # Unset fields stay null and take the search module's defaults (domain, prod, its engine version).
  type = object({
    engine          = optional(string)
    profile         = optional(string)
    engine_version  = optional(string)
    master_user_arn = string
    # The search module's whole cluster type, passed through (declared and validated there only).
    cluster = optional(any, {})
  })

  validation {
    condition     = contains(["domain", "serverless"], coalesce(var.search.engine, "domain")) # unset: the module default
    error_message = "search.engine must be domain (serverless is recognised but refused: see the next rule)."
  }

  # Refused until AWS documents what the projector relies on. Its correctness rests on `_bulk` with
  # version_type=external (a replayed or out-of-order stream record loses to the newer version already
  # indexed); AWS's "Supported operations and plugins in Amazon OpenSearch Serverless" lists `_bulk` under
  # aoss:WriteDocument but says nothing of external versions, and lists neither `_refresh` nor
  # `_delete_by_query` (the tombstone purge). modules/search keeps the collection variant for that day.
  validation {
    condition     = coalesce(var.search.engine, "domain") != "serverless"
    error_message = "search.engine = \"serverless\" is refused: the projector's correctness rests on _bulk with version_type=external, and AWS's list of supported OpenSearch Serverless operations does not establish that a collection accepts external versions, _refresh or _delete_by_query (the tombstone purge); alias reads would also need aoss:DescribeCollectionItems. Use engine = \"domain\" (terraform/README.md, \"OpenSearch Serverless: refused, and why\")."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Projector
# ---------------------------------------------------------------------------------------------------------
variable "projector_package_file" {
  description = "Lambda zip from `python scripts/build_projector.py` (path relative to this directory or absolute)."
  type        = string
  default     = "../build/projector.zip"
}

variable "projector" {
  description = <<-EOT
    Projector tuning: memory, reserved concurrency, log level; stream_mapping: any field of the projector
    module's stream_mapping (batch_size, maximum_batching_window_in_seconds, maximum_retry_attempts,
    maximum_record_age_in_seconds, bisect_batch_on_function_error, parallelization_factor,
    starting_position; unset fields come from definitions/stream_mapping.json); the tombstone purge:
    tombstone_retention_hours (> 24, the stream's retention), tombstone_purge_schedule (EventBridge rate()
    or cron()), tombstone_purge_enabled (false pauses it); the review cascade: review_cascade_timeout
    (seconds, 30-900), review_cascade_enabled (false pauses its mapping); projection_signal_enabled (default true: publish
    onListingProjected after each batch). modules/projector types and validates every
    field; a bad value is reported at this stack's module call.
  EOT
  # Unset fields stay null and take the projector module's defaults (one place for each default).
  type = object({
    memory_size          = optional(number)
    reserved_concurrency = optional(number)
    log_level            = optional(string)
    # Passed through whole: the module's object type is the one declaration of its fields, so none is
    # left out here (a copy of the type once hid bisect_batch_on_function_error and starting_position).
    stream_mapping            = optional(any, {})
    tombstone_retention_hours = optional(number)
    tombstone_purge_schedule  = optional(string)
    tombstone_purge_enabled   = optional(bool)
    # The review cascade (modules/projector/cascade.tf): its timeout, and false to pause its mapping.
    review_cascade_timeout = optional(number)
    review_cascade_enabled = optional(bool)
    # The projection signal (onListingProjected) after each batch; false turns it off.
    projection_signal_enabled = optional(bool, true)
  })
  default = {}
}

variable "alarm_actions" {
  description = "SNS topic ARNs notified by the projector's alarms."
  type        = list(string)
  default     = []
}

# ---------------------------------------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------------------------------------
variable "api" {
  description = <<-EOT
    API options: api_key_enabled (development only; default false), introspection_enabled (default false),
    waf_enabled (default true), waf_rate_limit (per IP per 5 min; default 2000); iam_caller_role_arns: the
    backend roles that may call the API over IAM (seed, smoke, ops; default none); user pool:
    self_sign_up_enabled (default false: administrators create users), user_pool_tier (LITE, ESSENTIALS,
    PLUS) and advanced_security_mode (OFF, AUDIT, ENFORCED; needs PLUS), which default to PLUS + ENFORCED
    (threat protection) in prod and ESSENTIALS + OFF in dev. Unset fields take the api module's defaults.
  EOT
  type = object({
    api_key_enabled        = optional(bool)
    introspection_enabled  = optional(bool)
    waf_enabled            = optional(bool)
    waf_rate_limit         = optional(number)
    iam_caller_role_arns   = optional(list(string), [])
    self_sign_up_enabled   = optional(bool)
    user_pool_tier         = optional(string)
    advanced_security_mode = optional(string)
  })
  default = {}
}
