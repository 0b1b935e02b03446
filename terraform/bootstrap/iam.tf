# The pipeline's roles. Policies are built as data (locals + jsonencode) rather than with
# aws_iam_policy_document so that the mocked `terraform test`s can read them back and assert on them.
#
#   <prefix>-plan             read-only; trusted by pull requests and by pushes to var.plan_on_branches
#   <prefix>-apply-<env>      read + write on one stack's resources; trusted only by jobs that run in the
#                             GitHub environment <env> (which holds the required reviewers for prod)
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = var.region

  # OIDC subject claims (GitHub's default format, no customised claim template).
  plan_subjects = concat(
    ["repo:${var.github_repository}:pull_request"],
    [for branch in var.plan_on_branches : "repo:${var.github_repository}:ref:refs/heads/${branch}"],
  )
  apply_subjects = { for environment in keys(var.stacks) : environment => "repo:${var.github_repository}:environment:${environment}" }

  state_bucket_arn = aws_s3_bucket.state.arn
  state_keys       = { for environment in keys(var.stacks) : environment => "${var.state_key_prefix}/${environment}.tfstate" }

  # Every read a refresh of the stack makes and every write an apply makes, per service, with the
  # resources it may touch. A stack's resources all start with its `name` (terraform/modules); where AWS
  # generates the identifier (AppSync API ids, Cognito pool ids, event source mapping UUIDs) the scope is the
  # account and region, and creation is tied to the stack's tag or function instead.
  stack_permissions = {
    for environment, stack in var.stacks : environment => [
      {
        sid       = "Table"
        resources = ["arn:${local.partition}:dynamodb:${local.region}:${local.account}:table/${stack.name}-*"]
        read      = ["dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive", "dynamodb:DescribeKinesisStreamingDestination", "dynamodb:ListTagsOfResource"]
        write     = ["dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTimeToLive", "dynamodb:TagResource", "dynamodb:UntagResource"]
        condition = null
      },
      {
        sid       = "Roles"
        resources = ["arn:${local.partition}:iam::${local.account}:role/${stack.name}-*"]
        read      = ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:ListRoleTags"]
        write     = ["iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy"]
        condition = null
      },
      {
        # The only managed policy the modules attach (the projector and purge roles' X-Ray access).
        sid       = "ManagedPolicyAttachments"
        resources = ["arn:${local.partition}:iam::${local.account}:role/${stack.name}-*"]
        read      = []
        write     = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
        condition = { test = "ArnEquals", variable = "iam:PolicyARN", values = ["arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"] }
      },
      {
        # Lambda runs the functions; AppSync assumes the data source and logging roles.
        sid       = "PassStackRoles"
        resources = ["arn:${local.partition}:iam::${local.account}:role/${stack.name}-*"]
        read      = []
        write     = ["iam:PassRole"]
        condition = { test = "StringEquals", variable = "iam:PassedToService", values = ["lambda.amazonaws.com", "appsync.amazonaws.com"] }
      },
      {
        sid       = "Functions"
        resources = ["arn:${local.partition}:lambda:${local.region}:${local.account}:function:${stack.name}-*"]
        read      = ["lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:GetFunctionCodeSigningConfig", "lambda:GetFunctionConcurrency", "lambda:GetPolicy", "lambda:GetRuntimeManagementConfig", "lambda:ListVersionsByFunction", "lambda:ListTags"]
        write     = ["lambda:CreateFunction", "lambda:DeleteFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:AddPermission", "lambda:RemovePermission", "lambda:TagResource", "lambda:UntagResource"]
        condition = null
      },
      {
        # Mappings have generated UUIDs; Lambda scopes them by the function they feed.
        sid       = "StreamMappingsOfStackFunctions"
        resources = ["arn:${local.partition}:lambda:${local.region}:${local.account}:event-source-mapping:*"]
        read      = ["lambda:GetEventSourceMapping"]
        write     = ["lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"]
        condition = { test = "ArnLike", variable = "lambda:FunctionArn", values = ["arn:${local.partition}:lambda:${local.region}:${local.account}:function:${stack.name}-*"] }
      },
      {
        # CreateEventSourceMapping has no resource type: it is scoped by the function instead.
        sid       = "CreateStreamMappingForStackFunctions"
        resources = ["*"]
        read      = []
        write     = ["lambda:CreateEventSourceMapping"]
        condition = { test = "ArnLike", variable = "lambda:FunctionArn", values = ["arn:${local.partition}:lambda:${local.region}:${local.account}:function:${stack.name}-*"] }
      },
      {
        sid       = "StreamMappingTags"
        resources = ["arn:${local.partition}:lambda:${local.region}:${local.account}:event-source-mapping:*"]
        read      = ["lambda:ListTags"]
        write     = ["lambda:TagResource", "lambda:UntagResource"]
        condition = null
      },
      {
        sid       = "Queues"
        resources = ["arn:${local.partition}:sqs:${local.region}:${local.account}:${stack.name}-*"]
        read      = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"]
        write     = ["sqs:CreateQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"]
        condition = null
      },
      {
        # The AppSync log group is named after the generated API id.
        sid = "LogGroups"
        resources = [
          "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${stack.name}-*",
          "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/opensearch/${stack.name}/*",
          "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/appsync/apis/*",
          "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:aws-waf-logs-${stack.name}-*",
        ]
        read      = ["logs:ListTagsForResource", "logs:ListTagsLogGroup"]
        write     = ["logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:TagResource", "logs:UntagResource", "logs:TagLogGroup", "logs:UntagLogGroup", "logs:AssociateKmsKey", "logs:DisassociateKmsKey"]
        condition = null
      },
      {
        sid       = "Alarms"
        resources = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account}:alarm:${stack.name}-*"]
        read      = ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"]
        write     = ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource"]
        condition = null
      },
      {
        # The operations dashboard (one per stack, named after it).
        sid       = "Dashboards"
        resources = ["arn:${local.partition}:cloudwatch::${local.account}:dashboard/${stack.name}*"]
        read      = ["cloudwatch:GetDashboard"]
        write     = ["cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"]
        condition = null
      },
      {
        sid       = "Schedules"
        resources = ["arn:${local.partition}:events:${local.region}:${local.account}:rule/${stack.name}-*"]
        read      = ["events:DescribeRule", "events:ListTargetsByRule", "events:ListTagsForResource"]
        write     = ["events:PutRule", "events:DeleteRule", "events:EnableRule", "events:DisableRule", "events:PutTargets", "events:RemoveTargets", "events:TagResource", "events:UntagResource"]
        condition = null
      },
      {
        sid       = "SearchDomain"
        resources = ["arn:${local.partition}:es:${local.region}:${local.account}:domain/${stack.name}", "arn:${local.partition}:es:${local.region}:${local.account}:domain/${stack.name}/*"]
        read      = ["es:DescribeDomain", "es:DescribeDomains", "es:DescribeDomainConfig", "es:DescribeDomainChangeProgress", "es:GetCompatibleVersions", "es:ListTags"]
        write     = ["es:CreateDomain", "es:DeleteDomain", "es:UpdateDomainConfig", "es:UpgradeDomain", "es:AddTags", "es:RemoveTags"]
        condition = null
      },
      {
        # Created with the first domain of the account.
        sid       = "SearchServiceLinkedRole"
        resources = ["arn:${local.partition}:iam::${local.account}:role/aws-service-role/opensearchservice.amazonaws.com/AWSServiceRoleForAmazonOpenSearchService"]
        read      = []
        write     = ["iam:CreateServiceLinkedRole"]
        condition = { test = "StringEquals", variable = "iam:AWSServiceName", values = ["opensearchservice.amazonaws.com"] }
      },
      {
        sid       = "Api"
        resources = ["arn:${local.partition}:appsync:${local.region}:${local.account}:apis/*"]
        read      = ["appsync:GetGraphqlApi", "appsync:GetGraphqlApiEnvironmentVariables", "appsync:GetSchemaCreationStatus", "appsync:GetIntrospectionSchema", "appsync:GetDataSource", "appsync:GetFunction", "appsync:GetResolver", "appsync:ListApiKeys", "appsync:ListTagsForResource"]
        write     = ["appsync:UpdateGraphqlApi", "appsync:DeleteGraphqlApi", "appsync:StartSchemaCreation", "appsync:CreateApiKey", "appsync:UpdateApiKey", "appsync:DeleteApiKey", "appsync:CreateDataSource", "appsync:UpdateDataSource", "appsync:DeleteDataSource", "appsync:CreateFunction", "appsync:UpdateFunction", "appsync:DeleteFunction", "appsync:CreateResolver", "appsync:UpdateResolver", "appsync:DeleteResolver", "appsync:SetWebACL", "appsync:TagResource", "appsync:UntagResource"]
        condition = null
      },
      {
        # Creation has no resource ARN yet: tie it to the stack's tag (the root stack's default_tags).
        sid       = "CreateTaggedApiAndUserPool"
        resources = ["*"]
        read      = []
        write     = ["appsync:CreateGraphqlApi", "cognito-idp:CreateUserPool"]
        condition = { test = "StringEquals", variable = "aws:RequestTag/appsync-cqrs:stack", values = [stack.name] }
      },
      {
        sid       = "UserPool"
        resources = ["arn:${local.partition}:cognito-idp:${local.region}:${local.account}:userpool/*"]
        read      = ["cognito-idp:DescribeUserPool", "cognito-idp:DescribeUserPoolClient", "cognito-idp:GetUserPoolMfaConfig", "cognito-idp:ListTagsForResource"]
        write     = ["cognito-idp:UpdateUserPool", "cognito-idp:DeleteUserPool", "cognito-idp:CreateUserPoolClient", "cognito-idp:UpdateUserPoolClient", "cognito-idp:DeleteUserPoolClient", "cognito-idp:SetUserPoolMfaConfig", "cognito-idp:TagResource", "cognito-idp:UntagResource"]
        condition = null
      },
      {
        sid = "WebAcl"
        resources = [
          "arn:${local.partition}:wafv2:${local.region}:${local.account}:regional/webacl/${stack.name}-*/*",
          "arn:${local.partition}:wafv2:${local.region}:${local.account}:regional/managedruleset/*/*",
          "arn:${local.partition}:appsync:${local.region}:${local.account}:apis/*",
        ]
        read      = ["wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:GetLoggingConfiguration", "wafv2:ListTagsForResource"]
        write     = ["wafv2:CreateWebACL", "wafv2:UpdateWebACL", "wafv2:DeleteWebACL", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:PutLoggingConfiguration", "wafv2:DeleteLoggingConfiguration", "wafv2:TagResource", "wafv2:UntagResource"]
        condition = null
      },
    ]
  }

  # Calls that have no resource type at all (AWS documents them as "*" only): log group listing, the
  # account's log resource policies (OpenSearch log publishing) and WAF's log delivery.
  account_permissions = {
    sid       = "AccountLevelLogCalls"
    resources = ["*"]
    read      = ["logs:DescribeLogGroups", "logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:ListLogDeliveries", "lambda:ListEventSourceMappings"]
    write     = ["logs:PutResourcePolicy", "logs:DeleteResourcePolicy", "logs:CreateLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery"]
    condition = null
  }

  kms_permissions = {
    for environment, stack in var.stacks : environment => stack.kms_key_arn == null ? [] : [{
      sid       = "StackKey"
      resources = [stack.kms_key_arn]
      read      = ["kms:DescribeKey", "kms:Decrypt"]
      write     = ["kms:CreateGrant", "kms:GenerateDataKey", "kms:Encrypt"]
      condition = null
    }]
  }

  state_key_permissions = var.state_kms_key_arn == null ? [] : [{
    sid       = "StateKey"
    resources = [var.state_kms_key_arn]
    read      = ["kms:Decrypt"]
    write     = ["kms:GenerateDataKey", "kms:Encrypt"]
    condition = null
  }]
}

# ---------------------------------------------------------------------------------------------------------
# Plan role: read only. A pull request's workflow file can be edited by its author, so whatever a PR job
# can assume must never write; plans run with -lock=false (a plan writes nothing, not even the lock file).
# ---------------------------------------------------------------------------------------------------------
locals {
  plan_statements = concat(
    [
      for permission in concat(flatten(values(local.stack_permissions)), [local.account_permissions], flatten(values(local.kms_permissions)), local.state_key_permissions) : merge(
        {
          Sid      = "Read${permission.sid}"
          Effect   = "Allow"
          Action   = permission.read
          Resource = permission.resources
        },
        permission.condition == null ? {} : { Condition = { (permission.condition.test) = { (permission.condition.variable) = permission.condition.values } } },
      ) if length(permission.read) > 0
    ],
    [
      {
        Sid      = "ReadState"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = [for key in values(local.state_keys) : "${local.state_bucket_arn}/${key}"]
      },
      {
        Sid       = "ListState"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = [local.state_bucket_arn]
        Condition = { StringLike = { "s3:prefix" = ["${var.state_key_prefix}/*"] } }
      },
    ],
  )
  # Statement ids must be unique within a policy: the stacks' statements are merged by sid.
  plan_policy = {
    Version = "2012-10-17"
    Statement = [
      for sid, statements in { for statement in local.plan_statements : statement.Sid => statement... } : merge(statements[0], {
        Resource = distinct(flatten([for statement in statements : statement.Resource]))
        Action   = distinct(flatten([for statement in statements : statement.Action]))
      }, try(statements[0].Condition, null) == null ? {} : { Condition = { for test, pairs in statements[0].Condition : test => { for key, values in pairs : key => distinct(flatten([for statement in statements : statement.Condition[test][key]])) } } })
    ]
  }

  plan_trust_policy = {
    Version = "2012-10-17"
    Statement = [{
      Sid       = "GitHubPullRequestsAndPlanBranches"
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${local.github_oidc_host}:aud" = local.github_oidc_audience
          "${local.github_oidc_host}:sub" = local.plan_subjects
        }
      }
    }]
  }
}

resource "aws_iam_role" "plan" {
  name                 = "${var.role_name_prefix}-plan"
  description          = "Read-only terraform plan for ${var.github_repository} (pull requests, ${join(", ", var.plan_on_branches)})."
  assume_role_policy   = jsonencode(local.plan_trust_policy)
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "plan" {
  name   = "read-only-plan"
  role   = aws_iam_role.plan.id
  policy = jsonencode(local.plan_policy)
}

# ---------------------------------------------------------------------------------------------------------
# Apply roles: one per environment, each limited to its own stack and its own state object.
# ---------------------------------------------------------------------------------------------------------
locals {
  apply_policies = {
    for environment in keys(var.stacks) : environment => {
      Version = "2012-10-17"
      Statement = concat(
        [
          for permission in concat(local.stack_permissions[environment], [local.account_permissions], local.kms_permissions[environment], local.state_key_permissions) : merge(
            {
              Sid      = permission.sid
              Effect   = "Allow"
              Action   = concat(permission.read, permission.write)
              Resource = permission.resources
            },
            permission.condition == null ? {} : { Condition = { (permission.condition.test) = { (permission.condition.variable) = permission.condition.values } } },
          )
        ],
        [
          {
            Sid      = "State"
            Effect   = "Allow"
            Action   = ["s3:GetObject", "s3:PutObject"]
            Resource = ["${local.state_bucket_arn}/${local.state_keys[environment]}"]
          },
          {
            # use_lockfile: the lock is an object next to the state, created and deleted by every apply.
            Sid      = "StateLock"
            Effect   = "Allow"
            Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
            Resource = ["${local.state_bucket_arn}/${local.state_keys[environment]}.tflock"]
          },
          {
            Sid       = "ListState"
            Effect    = "Allow"
            Action    = ["s3:ListBucket"]
            Resource  = [local.state_bucket_arn]
            Condition = { StringLike = { "s3:prefix" = ["${var.state_key_prefix}/*"] } }
          },
        ],
      )
    }
  }
}

resource "aws_iam_role" "apply" {
  for_each = var.stacks

  name        = "${var.role_name_prefix}-apply-${each.key}"
  description = "terraform apply of stack ${each.value.name} from the GitHub environment ${each.key} of ${var.github_repository}."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "GitHubEnvironment${title(each.key)}"
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${local.github_oidc_host}:aud" = local.github_oidc_audience
          "${local.github_oidc_host}:sub" = local.apply_subjects[each.key]
        }
      }
    }]
  })
  max_session_duration = var.apply_session_seconds
}

resource "aws_iam_role_policy" "apply" {
  for_each = var.stacks

  name   = "apply-${each.key}"
  role   = aws_iam_role.apply[each.key].id
  policy = jsonencode(local.apply_policies[each.key])
}
