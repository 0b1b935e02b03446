# ---------------------------------------------------------------------------------------------------------
# Account and repository
# ---------------------------------------------------------------------------------------------------------
variable "region" {
  description = "AWS region of the state bucket and of the stacks the apply roles manage, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "github_repository" {
  description = "The GitHub repository whose workflows may assume the roles, as owner/name (case as GitHub shows it: the OIDC subject claim is compared exactly)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must be owner/name, e.g. my-org/appsync-cqrs (no wildcards: the trust policies compare it exactly)."
  }
}

variable "tags" {
  description = "Tags for every resource of the bootstrap."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------------------
# State bucket
# ---------------------------------------------------------------------------------------------------------
variable "state_bucket_name" {
  description = "Name of the S3 bucket that holds every stack's Terraform state (globally unique, 3-63 characters: lower-case letters, digits, '-', '.')."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name)) && !can(regex("\\.\\.|^xn--|-s3alias$", var.state_bucket_name))
    error_message = "state_bucket_name must be a valid S3 bucket name: 3-63 lower-case letters, digits, '-' or '.', starting and ending with a letter or digit."
  }
}

variable "state_key_prefix" {
  description = "Prefix of the state object keys: a stack's state lives at <prefix>/<environment>.tfstate (the workflows pass the same key)."
  type        = string
  default     = "appsync-cqrs"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]{0,62}$", var.state_key_prefix))
    error_message = "state_key_prefix must be 1-63 lower-case letters, digits, '-' or '_' (no '/': the roles' grants end at one level)."
  }
}

variable "state_kms_key_arn" {
  description = "Customer-managed KMS key for the state bucket; null uses the AWS-managed aws/s3 key (encryption stays on). The roles are granted use of a given key."
  type        = string
  default     = null

  validation {
    condition     = var.state_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.state_kms_key_arn))
    error_message = "state_kms_key_arn must be a KMS key ARN or null."
  }
}

variable "noncurrent_state_retention_days" {
  description = "Days to keep superseded state versions (the way back after a bad apply) before they expire."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_state_retention_days >= 7 && var.noncurrent_state_retention_days <= 3650
    error_message = "noncurrent_state_retention_days must be between 7 and 3650."
  }
}

# ---------------------------------------------------------------------------------------------------------
# GitHub OIDC provider and roles
# ---------------------------------------------------------------------------------------------------------
variable "create_oidc_provider" {
  description = "Create the account's GitHub Actions OIDC provider. An account holds one provider per URL: set false where it already exists (it is then looked up)."
  type        = bool
  default     = true
}

variable "stacks" {
  description = <<-EOT
    The stacks the pipeline deploys, by GitHub environment name (valid names: dev, prod, the files in
    terraform/environments). name: the stack's `name` variable (resource name prefix, as in its tfvars);
    kms_key_arn: the stack's customer-managed key, if it uses one (the apply role may then use it).
  EOT
  type = map(object({
    name        = string
    kms_key_arn = optional(string)
  }))
  default = {
    dev  = { name = "cqrs-dev" }
    prod = { name = "cqrs-prod" }
  }

  validation {
    condition     = length(var.stacks) > 0 && alltrue([for environment in keys(var.stacks) : contains(["dev", "prod"], environment)])
    error_message = "stacks must be keyed by known environments only: dev, prod (each has terraform/environments/<name>.tfvars)."
  }

  validation {
    condition     = alltrue([for stack in values(var.stacks) : can(regex("^[a-z][a-z0-9-]{2,19}$", stack.name))])
    error_message = "stacks[*].name must be 3-20 lower-case letters, digits or '-', starting with a letter (the stack's own rule)."
  }

  validation {
    condition     = length(distinct([for stack in values(var.stacks) : stack.name])) == length(var.stacks)
    error_message = "stacks[*].name must differ: each apply role is scoped to its own stack's name prefix."
  }

  validation {
    condition     = alltrue([for stack in values(var.stacks) : stack.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(stack.kms_key_arn, "-")))])
    error_message = "stacks[*].kms_key_arn must be a KMS key ARN or null."
  }
}

variable "role_name_prefix" {
  description = "Prefix of the pipeline's role names: <prefix>-plan and <prefix>-apply-<environment>."
  type        = string
  default     = "appsync-cqrs-ci"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,40}$", var.role_name_prefix))
    error_message = "role_name_prefix must be 1-40 characters allowed in IAM role names."
  }
}

variable "plan_on_branches" {
  description = "Branches whose pushes may assume the read-only plan role besides pull requests (the main workflow plans prod on main before approval)."
  type        = list(string)
  default     = ["main"]

  validation {
    condition     = alltrue([for branch in var.plan_on_branches : can(regex("^[A-Za-z0-9._/-]+$", branch)) && !strcontains(branch, "*")])
    error_message = "plan_on_branches must be branch names without wildcards."
  }
}

variable "apply_session_seconds" {
  description = "Longest session of an apply role, in seconds: a domain change can outlast the one-hour default (3600-43200)."
  type        = number
  default     = 7200

  validation {
    condition     = var.apply_session_seconds >= 3600 && var.apply_session_seconds <= 43200
    error_message = "apply_session_seconds must be between 3600 and 43200."
  }
}
