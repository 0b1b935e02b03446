output "state_bucket_name" {
  description = "The state bucket: the workflows' TF_STATE_BUCKET repository variable."
  value       = aws_s3_bucket.state.id
}

output "state_bucket_arn" {
  description = "ARN of the state bucket."
  value       = aws_s3_bucket.state.arn
}

output "state_keys" {
  description = "State object key per environment (the backend's key)."
  value       = local.state_keys
}

output "oidc_provider_arn" {
  description = "The GitHub Actions OIDC provider the roles trust (created here or looked up)."
  value       = local.oidc_provider_arn
}

output "plan_role_arn" {
  description = "The read-only plan role: the workflows' PLAN_ROLE_ARN repository variable."
  value       = aws_iam_role.plan.arn
}

output "apply_role_arns" {
  description = "Apply role per environment: each environment's APPLY_ROLE_ARN environment variable in GitHub."
  value       = { for environment, role in aws_iam_role.apply : environment => role.arn }
}

output "plan_role_subjects" {
  description = "OIDC subjects the plan role trusts."
  value       = local.plan_subjects
}

output "apply_role_subjects" {
  description = "OIDC subject each apply role trusts."
  value       = local.apply_subjects
}
