# Rules every module validates alike live once, in definitions/conventions.json: Terraform has no shared
# types or validation blocks, but since 1.9 a validation may read a local.
locals {
  conventions = jsondecode(file("${path.module}/../../definitions/conventions.json"))
  # An IAM role ARN's account and name (its path, if any, dropped): what AppSync's identity of an assumed
  # role still carries (arn:aws:sts::<account>:assumed-role/<name>/<session>).
  role_arn_parts = "^arn:aws[a-z-]*:iam::([0-9]{12}):role/(?:[\\w+=,.@-]+/)*([\\w+=,.@-]{1,64})$"
}

# ---------------------------------------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------------------------------------
variable "name" {
  description = "Name of the API; also the prefix of its roles, user pool and web ACL (1-48 characters)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,48}$", var.name))
    error_message = "name must be 1-48 characters of letters, digits, '_' or '-'."
  }
}

variable "schema_file" {
  description = "GraphQL schema file; null means the repository's schema/schema.graphql."
  type        = string
  default     = null
}

variable "resolvers_dir" {
  description = "Directory holding manifest.json and the APPSYNC_JS files it names; null means the repository's resolvers/."
  type        = string
  default     = null
}

variable "introspection_enabled" {
  description = "Answer introspection queries (schema discovery). Off by default in production; tools like codegen need it."
  type        = bool
  default     = false
  nullable    = false
}

variable "xray_enabled" {
  description = "Trace requests with X-Ray."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the API's and the web ACL's log groups; null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex(local.conventions.kms_key_arn_pattern, var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN or null."
  }
}

variable "log_retention_days" {
  description = "Days to keep the API's (and the web ACL's) logs (a value CloudWatch Logs accepts)."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = contains(local.conventions.log_retention_days, var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts: ${join(", ", local.conventions.log_retention_days)}."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Auth: Cognito user pools (default, people), IAM (backends), API key (opt-in, development only)
# ---------------------------------------------------------------------------------------------------------
variable "user_pool_id" {
  description = "An existing Cognito user pool for the frontend's users; null creates one (with an app client) in this module."
  type        = string
  default     = null
}

variable "user_pool_client_id" {
  description = "App client of an existing user_pool_id (required with it)."
  type        = string
  default     = null
}

variable "api_key_enabled" {
  description = "Add API-key auth (read-only queries, per the schema's directives). Only for development: keys are shared secrets."
  type        = bool
  default     = false
  nullable    = false
}

variable "api_key_expires" {
  description = "RFC 3339 expiry of the API key (at most 365 days ahead); null lets AppSync default to 7 days."
  type        = string
  default     = null

  validation {
    condition     = var.api_key_expires == null || can(formatdate("YYYY", coalesce(var.api_key_expires, "-")))
    error_message = "api_key_expires must be an RFC 3339 timestamp such as 2027-01-31T00:00:00Z."
  }
}

variable "iam_caller_role_arns" {
  description = "IAM roles allowed to call the API: the backends (seed, smoke, ops). AppSync reports an assumed role without its path, so a caller is matched by account and role name; any other IAM caller (another role, an IAM user, Cognito identity-pool credentials) is refused by the resolvers. Empty: no IAM caller at all."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.iam_caller_role_arns : can(regex(local.role_arn_parts, arn))])
    error_message = "iam_caller_role_arns must hold IAM role ARNs (arn:aws:iam::<account>:role/[path/]<name>)."
  }
}

variable "publisher_role_arns" {
  description = "IAM roles that publish to the API (mutations that exist to notify subscribers, such as the projector's). Admitted exactly like iam_caller_role_arns; apart so that a stack adds a publisher without touching its list of backends."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.publisher_role_arns : can(regex(local.role_arn_parts, arn))])
    error_message = "publisher_role_arns must hold IAM role ARNs (arn:aws:iam::<account>:role/[path/]<name>)."
  }
}

variable "user_pool" {
  description = <<-EOT
    The user pool this module creates (ignored with user_pool_id). self_sign_up_enabled: let anyone sign up
    (default false: only administrators create users). tier: LITE, ESSENTIALS (default) or PLUS (the feature
    plan; see README.md for what each costs). advanced_security_mode: OFF (default), AUDIT or ENFORCED
    (threat protection: compromised credentials, adaptive authentication), which needs tier PLUS.
  EOT
  type = object({
    self_sign_up_enabled   = optional(bool, false)
    tier                   = optional(string, "ESSENTIALS")
    advanced_security_mode = optional(string, "OFF")
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["LITE", "ESSENTIALS", "PLUS"], var.user_pool.tier) && contains(["OFF", "AUDIT", "ENFORCED"], var.user_pool.advanced_security_mode)
    error_message = "user_pool.tier must be LITE, ESSENTIALS or PLUS, and user_pool.advanced_security_mode OFF, AUDIT or ENFORCED."
  }

  # Cognito refuses threat protection outside the Plus plan (provider 5.100 passes the pair through and
  # the API call fails at apply); say so at plan time instead.
  validation {
    condition     = var.user_pool.advanced_security_mode == "OFF" || var.user_pool.tier == "PLUS"
    error_message = "user_pool.advanced_security_mode = \"${var.user_pool.advanced_security_mode}\" (threat protection) needs user_pool.tier = \"PLUS\" (it is \"${var.user_pool.tier}\")."
  }
}

# ---------------------------------------------------------------------------------------------------------
# Data sources
# ---------------------------------------------------------------------------------------------------------
variable "table" {
  description = "The table the DynamoDB data sources use: name, ARN and GSI ARNs (the table module's outputs)."
  type = object({
    name       = string
    arn        = string
    index_arns = list(string)
  })

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/${var.table.name}$", var.table.arn))
    error_message = "table.arn must be the ARN of the table named table.name."
  }
}

variable "search" {
  description = "The read model: endpoint (https://), resource_arn (domain or collection) and engine (domain or serverless), from the search module."
  type = object({
    endpoint     = string
    resource_arn = string
    engine       = string
  })

  validation {
    condition     = startswith(var.search.endpoint, "https://") && contains(["domain", "serverless"], var.search.engine)
    error_message = "search.endpoint must be https:// and search.engine domain or serverless."
  }
}

# ---------------------------------------------------------------------------------------------------------
# WAF
# ---------------------------------------------------------------------------------------------------------
variable "waf" {
  description = "A WAFv2 web ACL in front of the API: AWS managed common, known-bad-inputs and anonymous-IP rules plus a per-IP rate limit (requests per 5 minutes)."
  type = object({
    enabled    = optional(bool, true)
    rate_limit = optional(number, 2000)
  })
  default = {}

  validation {
    condition     = var.waf.rate_limit >= 100 && var.waf.rate_limit <= 2000000000
    error_message = "waf.rate_limit must be between 100 and 2,000,000,000 requests per 5 minutes."
  }
}

variable "tags" {
  description = "Tags merged into every resource of this module."
  type        = map(string)
  default     = {}
}
