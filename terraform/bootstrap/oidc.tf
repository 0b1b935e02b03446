# GitHub Actions' OIDC provider. No thumbprint_list: AWS validates token.actions.githubusercontent.com
# against its library of trusted root CAs (the IAM console says so on the provider), and provider 5.x makes
# the argument optional. The audience is the one aws-actions/configure-aws-credentials requests.
locals {
  github_oidc_url      = "https://token.actions.githubusercontent.com"
  github_oidc_host     = "token.actions.githubusercontent.com"
  github_oidc_audience = "sts.amazonaws.com"
  oidc_provider_arn    = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : data.aws_iam_openid_connect_provider.github[0].arn
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url            = local.github_oidc_url
  client_id_list = [local.github_oidc_audience]
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 0 : 1

  url = local.github_oidc_url
}
