# Mocked AWS provider: the ten-minute domain creation becomes a plan that is checked field by field.
mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/opensearch/cqrs-test" }
  }
  mock_resource "aws_opensearch_domain" {
    defaults = {
      arn      = "arn:aws:es:us-east-1:123456789012:domain/cqrs-test"
      endpoint = "search-cqrs-test-abc.us-east-1.es.amazonaws.com"
    }
  }
  mock_resource "aws_opensearchserverless_collection" {
    defaults = {
      arn                 = "arn:aws:aoss:us-east-1:123456789012:collection/abc123"
      collection_endpoint = "https://abc123.us-east-1.aoss.amazonaws.com"
    }
  }
}

variables {
  name             = "cqrs-test"
  master_user_arn  = "arn:aws:iam::123456789012:role/search-admin"
  writer_role_arns = ["arn:aws:iam::123456789012:role/projector"]
  reader_role_arns = ["arn:aws:iam::123456789012:role/appsync-search"]
}

run "prod_default_is_highly_available_encrypted_and_closed" {
  command = apply

  # The names come from definitions/indices.json; written out here on purpose.
  assert {
    condition = [for s in jsondecode(aws_opensearch_domain_policy.this[0].access_policies).Statement : s.Resource if contains(["ProjectorWritesTheReadModel", "ProjectorResolvesTheWriteAliases", "ApiSearchesTheReadAliases"], s.Sid)] == [
      ["arn:aws:es:us-east-1:123456789012:domain/cqrs-test/_bulk"],
      [for path in ["_alias/listings-write", "_alias/reviews-write"] : "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/${path}"],
      [for path in ["listings/_search", "reviews/_search", "listings/_count", "reviews/_count"] : "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/${path}"],
    ]
    error_message = "writers get _bulk and the write aliases; readers the read aliases' _search and _count"
  }

  # The projector's two requests and nothing more: POST /_bulk, GET /_alias/<write alias>.
  assert {
    condition = [for s in jsondecode(aws_opensearch_domain_policy.this[0].access_policies).Statement : s.Action if startswith(s.Sid, "Projector")] == [
      ["es:ESHttpPost"], ["es:ESHttpGet"],
    ]
    error_message = "the projector may only POST _bulk and GET its write aliases"
  }

  assert {
    condition = (
      one(aws_opensearch_domain.this[0].cluster_config).zone_awareness_enabled &&
      one(one(aws_opensearch_domain.this[0].cluster_config).zone_awareness_config).availability_zone_count == 3 &&
      one(aws_opensearch_domain.this[0].cluster_config).instance_count == 3
    )
    error_message = "prod spreads three data nodes over three AZs"
  }

  assert {
    condition     = one(aws_opensearch_domain.this[0].cluster_config).dedicated_master_enabled && one(aws_opensearch_domain.this[0].cluster_config).dedicated_master_count == 3
    error_message = "prod has a three-node dedicated master quorum"
  }

  assert {
    condition     = one(aws_opensearch_domain.this[0].ebs_options).volume_type == "gp3" && one(aws_opensearch_domain.this[0].ebs_options).ebs_enabled
    error_message = "storage is gp3"
  }

  assert {
    condition     = one(aws_opensearch_domain.this[0].encrypt_at_rest).enabled && one(aws_opensearch_domain.this[0].node_to_node_encryption).enabled
    error_message = "encryption at rest and node-to-node encryption must be on"
  }

  assert {
    condition     = one(aws_opensearch_domain.this[0].domain_endpoint_options).enforce_https && startswith(one(aws_opensearch_domain.this[0].domain_endpoint_options).tls_security_policy, "Policy-Min-TLS-1-2")
    error_message = "HTTPS only, TLS 1.2 or newer"
  }

  assert {
    condition = (
      one(aws_opensearch_domain.this[0].advanced_security_options).enabled &&
      !one(aws_opensearch_domain.this[0].advanced_security_options).internal_user_database_enabled &&
      !one(aws_opensearch_domain.this[0].advanced_security_options).anonymous_auth_enabled &&
      one(one(aws_opensearch_domain.this[0].advanced_security_options).master_user_options).master_user_arn == var.master_user_arn
    )
    error_message = "fine-grained access control with an IAM master and no internal users"
  }

  assert {
    condition     = toset([for option in aws_opensearch_domain.this[0].log_publishing_options : option.log_type if option.enabled]) == toset(["ES_APPLICATION_LOGS", "AUDIT_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS"])
    error_message = "application, audit and slow logs must be published"
  }

  assert {
    condition = toset(flatten([for s in jsondecode(aws_opensearch_domain_policy.this[0].access_policies).Statement : s.Principal.AWS])) == toset([
      "arn:aws:iam::123456789012:role/projector", "arn:aws:iam::123456789012:role/appsync-search", "arn:aws:iam::123456789012:role/search-admin",
    ])
    error_message = "only the projector, the API's search role and the master may call the domain"
  }

  assert {
    condition     = alltrue(flatten([for s in jsondecode(aws_opensearch_domain_policy.this[0].access_policies).Statement : [for r in s.Resource : r != "*" && startswith(r, "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/")]]))
    error_message = "no * resource; every resource is a path of this domain"
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_opensearch_domain_policy.this[0].access_policies).Statement :
      toset(s.Action) == toset(["es:ESHttpGet", "es:ESHttpPost"]) && alltrue([for r in s.Resource : endswith(r, "/_search") || endswith(r, "/_count")])
      if s.Sid == "ApiSearchesTheReadAliases"
    ])
    error_message = "the API's search role may only search and count through the read aliases"
  }

  assert {
    condition     = output.endpoint == "https://search-cqrs-test-abc.us-east-1.es.amazonaws.com" && output.auth == "sigv4"
    error_message = "a domain is reached over https with SigV4 (service es)"
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_log_resource_policy.domain[0].policy_document).Statement[0].Condition.ArnLike["aws:SourceArn"] == "arn:aws:es:us-east-1:123456789012:domain/cqrs-test"
    error_message = "only this domain may write its log groups"
  }
}

run "dev_profile_is_one_small_node" {
  command = plan

  variables {
    profile = "dev"
  }

  assert {
    condition = (
      one(aws_opensearch_domain.this[0].cluster_config).instance_count == 1 &&
      !one(aws_opensearch_domain.this[0].cluster_config).zone_awareness_enabled &&
      !one(aws_opensearch_domain.this[0].cluster_config).dedicated_master_enabled
    )
    error_message = "dev is one node without standby"
  }

  assert {
    condition     = one(aws_opensearch_domain.this[0].encrypt_at_rest).enabled && one(aws_opensearch_domain.this[0].advanced_security_options).enabled
    error_message = "dev keeps encryption and fine-grained access control"
  }
}

run "serverless_collection_with_its_policies" {
  command = apply

  variables {
    engine = "serverless"
  }

  assert {
    condition     = length(aws_opensearch_domain.this) == 0 && length(aws_opensearchserverless_collection.this) == 1 && aws_opensearchserverless_collection.this[0].type == "SEARCH"
    error_message = "serverless replaces the domain with a SEARCH collection"
  }

  assert {
    condition     = jsondecode(aws_opensearchserverless_security_policy.encryption[0].policy).AWSOwnedKey == true
    error_message = "the collection must be encrypted"
  }

  assert {
    condition     = toset(flatten([for rule in jsondecode(aws_opensearchserverless_access_policy.this[0].policy) : rule.Principal])) == toset([var.master_user_arn, var.writer_role_arns[0], var.reader_role_arns[0]])
    error_message = "the data access policy admits only the stack's roles"
  }

  assert {
    condition = [for rule in jsondecode(aws_opensearchserverless_access_policy.this[0].policy) : one(rule.Rules).Resource if !contains(rule.Principal, var.master_user_arn)] == [
      [for name in ["listings-v*", "reviews-v*", "listings-write", "reviews-write"] : "index/${var.name}/${name}"],
      [for name in ["listings", "reviews", "listings-v*", "reviews-v*"] : "index/${var.name}/${name}"],
    ]
    error_message = "the writer gets the concrete indices and the write aliases, the reader the read aliases and the indices behind them"
  }

  assert {
    condition     = alltrue([for rule in jsondecode(aws_opensearchserverless_access_policy.this[0].policy) : alltrue([for r in rule.Rules : !contains(r.Permission, "aoss:WriteDocument")]) if contains(rule.Principal, var.reader_role_arns[0])])
    error_message = "readers must not write"
  }

  assert {
    condition     = output.auth == "sigv4-aoss" && output.endpoint == "https://abc123.us-east-1.aoss.amazonaws.com"
    error_message = "a collection is signed for service aoss"
  }
}

run "admits_the_tombstone_purge_for_alias_lookups_and_delete_by_query_only" {
  command = apply

  variables {
    purger_role_arns = ["arn:aws:iam::123456789012:role/purge"]
  }

  assert {
    condition = one([for s in jsondecode(aws_opensearch_domain_policy.this[0].access_policies).Statement : s if s.Sid == "PurgeDeletesOldTombstones"]) == {
      Sid       = "PurgeDeletesOldTombstones"
      Effect    = "Allow"
      Principal = { AWS = ["arn:aws:iam::123456789012:role/purge"] }
      Action    = ["es:ESHttpGet", "es:ESHttpPost"]
      Resource = [
        "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/_alias/listings-write",
        "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/_alias/reviews-write",
        "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/listings-v*/_delete_by_query",
        "arn:aws:es:us-east-1:123456789012:domain/cqrs-test/reviews-v*/_delete_by_query",
      ]
    }
    error_message = "the purge role may only look up the write aliases and delete by query in the entity indices"
  }

  assert {
    condition     = length([for s in jsondecode(aws_opensearch_domain_policy.this[0].access_policies).Statement : s if contains(s.Principal.AWS, "arn:aws:iam::123456789012:role/purge")]) == 1
    error_message = "the purge role appears in no other statement"
  }
}

run "admits_the_tombstone_purge_to_a_collection_without_index_administration" {
  command = apply

  variables {
    engine           = "serverless"
    purger_role_arns = ["arn:aws:iam::123456789012:role/purge"]
  }

  assert {
    condition     = one([for rule in jsondecode(aws_opensearchserverless_access_policy.this[0].policy) : rule.Rules[0].Permission if contains(rule.Principal, "arn:aws:iam::123456789012:role/purge")]) == ["aoss:DescribeIndex", "aoss:ReadDocument", "aoss:WriteDocument"]
    error_message = "the purge reads and deletes documents, and creates or deletes no index"
  }
}

run "rejects_an_uneven_zone_layout" {
  command = plan

  variables {
    cluster = { instance_count = 4 }
  }

  expect_failures = [aws_opensearch_domain.this[0]]
}

run "rejects_an_even_master_quorum" {
  command = plan

  variables {
    cluster = { dedicated_master_count = 2 }
  }

  expect_failures = [var.cluster]
}

run "rejects_a_master_that_is_not_an_iam_arn" {
  command = plan

  variables {
    master_user_arn = "admin"
  }

  expect_failures = [var.master_user_arn]
}

run "rejects_an_unknown_engine" {
  command = plan

  variables {
    engine = "elasticsearch"
  }

  expect_failures = [var.engine]
}
