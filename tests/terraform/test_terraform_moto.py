"""Apply the table, projector and api modules with the real AWS provider against moto server, then read
back through boto3 what AWS would hold. (moto cannot create AppSync data sources, functions or resolvers,
and the provider waits ten minutes for an OpenSearch domain: the mocked `terraform test` runs cover those.)"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from tfkit import Terraform

from devstack.definitions import CascadeDefinition
from devstack.servers import ChildServer

# The shared fixture runs every Terraform command once; on a busy machine that outlasts pytest's 600 s.
pytestmark = pytest.mark.timeout(1200)
STACK = Path(__file__).parent / "moto_stack"


@pytest.fixture(scope="module")
def applied(
    terraform: Terraform, moto_server: ChildServer, lambda_zip: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The Terraform outputs of one apply; the moto server (and what was applied) goes with the session."""
    work = tmp_path_factory.mktemp("moto-apply")
    name = f"tf{uuid.uuid4().hex[:8]}"
    init = terraform.run(STACK, work / "data", "init", "-no-color", f"-backend-config=path={work / 'state'}")
    assert init.returncode == 0, init.output
    variables = [f"-var=endpoint={moto_server.url}", f"-var=name={name}", f"-var=package_file={lambda_zip}"]
    apply = terraform.run(
        STACK, work / "data", "apply", "-auto-approve", "-no-color", *variables, timeout=240
    )
    assert apply.returncode == 0, apply.output
    output = terraform.run(STACK, work / "data", "output", "-json", "-no-color")
    assert output.returncode == 0, output.output
    values: dict[str, Any] = {key: item["value"] for key, item in json.loads(output.output).items()}
    return values


def client(service: str, moto_server: ChildServer) -> Any:
    return boto3.client(service, endpoint_url=moto_server.url, region_name="us-east-1")


def test_table_has_a_new_and_old_images_stream(applied: dict[str, Any], moto_server: ChildServer) -> None:
    table = client("dynamodb", moto_server).describe_table(TableName=applied["table_name"])["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {key["AttributeName"]: key["KeyType"] for key in table["KeySchema"]} == {
        "pk": "HASH",
        "sk": "RANGE",
    }
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["byOwner"]
    assert table["SSEDescription"]["Status"] == "ENABLED"


def test_table_ttl_and_point_in_time_recovery(applied: dict[str, Any], moto_server: ChildServer) -> None:
    dynamodb = client("dynamodb", moto_server)
    ttl = dynamodb.describe_time_to_live(TableName=applied["table_name"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}
    backups = dynamodb.describe_continuous_backups(TableName=applied["table_name"])
    assert (
        backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
        == "ENABLED"
    )


def test_deletion_protection_is_on_and_enforced(applied: dict[str, Any], moto_server: ChildServer) -> None:
    dynamodb = client("dynamodb", moto_server)
    assert (
        dynamodb.describe_table(TableName=applied["table_name"])["Table"]["DeletionProtectionEnabled"] is True
    )
    with pytest.raises(ClientError):
        dynamodb.delete_table(TableName=applied["table_name"])
    assert dynamodb.describe_table(TableName=applied["table_name"])["Table"]["TableStatus"] == "ACTIVE"


def test_event_source_mapping_flags(applied: dict[str, Any], moto_server: ChildServer) -> None:
    lambda_client = client("lambda", moto_server)
    function_arn = lambda_client.get_function_configuration(FunctionName=applied["function_name"])[
        "FunctionArn"
    ]
    stream_arn = client("dynamodb", moto_server).describe_table(TableName=applied["table_name"])["Table"][
        "LatestStreamArn"
    ]
    # moto filters list_event_source_mappings by ARN only, so filter here.
    mappings = [
        m
        for m in lambda_client.list_event_source_mappings()["EventSourceMappings"]
        if m["FunctionArn"] == function_arn
    ]
    assert len(mappings) == 1
    mapping = mappings[0]
    assert mapping["EventSourceArn"] == stream_arn
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 10
    assert mapping["MaximumRecordAgeInSeconds"] == 21600
    assert mapping["BatchSize"] == 250  # the stack's override of the shared default (500)
    assert mapping["ParallelizationFactor"] == 1
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    on_failure = mapping["DestinationConfig"]["OnFailure"]["Destination"]
    assert on_failure.endswith(":" + applied["on_failure_queue_url"].rsplit("/", 1)[1])


def test_function_configuration(applied: dict[str, Any], moto_server: ChildServer) -> None:
    config = client("lambda", moto_server).get_function_configuration(FunctionName=applied["function_name"])
    assert config["Runtime"] == "python3.12"
    assert config["Architectures"] == ["arm64"]
    assert config["TracingConfig"] == {"Mode": "Active"}
    variables = config["Environment"]["Variables"]
    assert variables["DEAD_LETTER_QUEUE_URL"] == applied["dead_letter_queue_url"]
    assert variables["OPENSEARCH_AUTH"] == "sigv4"
    assert variables["OPENSEARCH_ENDPOINT"].startswith("https://")
    assert variables["TOMBSTONE_RETENTION_HOURS"] == "48"


def test_role_policy_names_exact_resources(applied: dict[str, Any], moto_server: ChildServer) -> None:
    iam = client("iam", moto_server)
    document = iam.get_role_policy(RoleName=applied["role_name"], PolicyName="projector")["PolicyDocument"]
    resources = [resource for statement in document["Statement"] for resource in statement["Resource"]]
    assert resources, document
    assert "*" not in resources
    assert all(resource.startswith("arn:aws:") for resource in resources)
    attached = iam.list_attached_role_policies(RoleName=applied["role_name"])["AttachedPolicies"]
    assert [policy["PolicyName"] for policy in attached] == ["AWSXRayDaemonWriteAccess"]


def test_queues_are_encrypted(applied: dict[str, Any], moto_server: ChildServer) -> None:
    sqs = client("sqs", moto_server)
    for url in (applied["dead_letter_queue_url"], applied["on_failure_queue_url"]):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["SqsManagedSseEnabled"] == "true"
        assert attributes["MessageRetentionPeriod"] == "1209600"


def test_alarms_exist(applied: dict[str, Any], moto_server: ChildServer) -> None:
    alarms = client("cloudwatch", moto_server).describe_alarms(AlarmNamePrefix=applied["function_name"])
    names = {alarm["AlarmName"].removeprefix(applied["function_name"]) for alarm in alarms["MetricAlarms"]}
    assert names == {
        "-iterator-age",
        "-errors",
        "-dead-letter-depth",
        "-on-failure-depth",
        "-purge-errors",
        "-cascade-iterator-age",
        "-cascade-on-failure-depth",
    }


def test_tombstone_purge_runs_on_its_schedule(applied: dict[str, Any], moto_server: ChildServer) -> None:
    events = client("events", moto_server)
    rule = events.describe_rule(Name=applied["purge_rule_name"])
    assert rule["ScheduleExpression"] == "rate(6 hours)" and rule["State"] == "ENABLED"
    lambda_client = client("lambda", moto_server)
    config = lambda_client.get_function_configuration(FunctionName=applied["purge_function_name"])
    assert config["Handler"] == "projector.purge.lambda_handler"
    assert config["Runtime"] == "python3.12" and config["Architectures"] == ["arm64"]
    assert config["TracingConfig"] == {"Mode": "Active"}
    assert config["Environment"]["Variables"]["TOMBSTONE_RETENTION_HOURS"] == "48"
    assert "DEAD_LETTER_QUEUE_URL" not in config["Environment"]["Variables"]
    targets = events.list_targets_by_rule(Rule=applied["purge_rule_name"])["Targets"]
    assert [target["Arn"] for target in targets] == [config["FunctionArn"]]
    policy = json.loads(lambda_client.get_policy(FunctionName=applied["purge_function_name"])["Policy"])
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["Arn"]


def test_purge_role_is_its_own_and_least_privilege(applied: dict[str, Any], moto_server: ChildServer) -> None:
    iam = client("iam", moto_server)
    assert applied["purge_role_name"] != applied["role_name"]
    document = iam.get_role_policy(RoleName=applied["purge_role_name"], PolicyName="tombstone-purge")[
        "PolicyDocument"
    ]
    actions = {action for statement in document["Statement"] for action in statement["Action"]}
    assert actions == {"es:ESHttpGet", "es:ESHttpPost", "logs:CreateLogStream", "logs:PutLogEvents"}
    resources = [resource for statement in document["Statement"] for resource in statement["Resource"]]
    assert "*" not in resources and all(resource.startswith("arn:aws:") for resource in resources)


def test_review_cascade_mapping_is_filtered_to_listing_removes(
    applied: dict[str, Any], moto_server: ChildServer
) -> None:
    lambda_client = client("lambda", moto_server)
    config = lambda_client.get_function_configuration(FunctionName=applied["cascade_function_name"])
    assert config["Handler"] == "projector.cascade.lambda_handler"
    assert config["Environment"]["Variables"]["TABLE_NAME"] == applied["table_name"]
    mappings = [
        m
        for m in lambda_client.list_event_source_mappings()["EventSourceMappings"]
        if m["FunctionArn"] == config["FunctionArn"]
    ]
    assert len(mappings) == 1
    [mapping] = mappings
    stream_arn = client("dynamodb", moto_server).describe_table(TableName=applied["table_name"])["Table"][
        "LatestStreamArn"
    ]
    assert mapping["EventSourceArn"] == stream_arn
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True and mapping["MaximumRetryAttempts"] == 10
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert patterns == list(CascadeDefinition.load().filter_patterns)
    on_failure = mapping["DestinationConfig"]["OnFailure"]["Destination"]
    assert on_failure.endswith(":" + applied["cascade_on_failure_queue_url"].rsplit("/", 1)[1])


def test_review_cascade_role_may_only_delete_in_the_table(
    applied: dict[str, Any], moto_server: ChildServer
) -> None:
    iam = client("iam", moto_server)
    assert applied["cascade_role_name"] not in (applied["role_name"], applied["purge_role_name"])
    document = iam.get_role_policy(RoleName=applied["cascade_role_name"], PolicyName="review-cascade")[
        "PolicyDocument"
    ]
    by_sid = {statement["Sid"]: statement for statement in document["Statement"]}
    assert by_sid["DeleteOrphanedReviews"]["Action"] == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
    ]
    [table_arn] = by_sid["DeleteOrphanedReviews"]["Resource"]
    assert table_arn.endswith(f":table/{applied['table_name']}")
    resources = [resource for statement in document["Statement"] for resource in statement["Resource"]]
    assert "*" not in resources and all(resource.startswith("arn:aws:") for resource in resources)


def test_api_auth_and_logging(applied: dict[str, Any], moto_server: ChildServer) -> None:
    api = client("appsync", moto_server).get_graphql_api(apiId=applied["api_id"])["graphqlApi"]
    assert api["authenticationType"] == "AMAZON_COGNITO_USER_POOLS"
    assert api["userPoolConfig"]["userPoolId"] == applied["user_pool_id"]
    assert [p["authenticationType"] for p in api["additionalAuthenticationProviders"]] == [
        "AWS_IAM",
        "API_KEY",
    ]
    assert api["logConfig"]["fieldLogLevel"] == "ERROR"
    assert api["logConfig"]["excludeVerboseContent"] is True
    assert api["xrayEnabled"] is True
    assert len(client("appsync", moto_server).list_api_keys(apiId=applied["api_id"])["apiKeys"]) == 1


def test_api_is_behind_the_web_acl(applied: dict[str, Any], moto_server: ChildServer) -> None:
    acl = client("wafv2", moto_server).get_web_acl_for_resource(ResourceArn=applied["api_arn"])["WebACL"]
    rules = {rule["Name"] for rule in acl["Rules"]}
    assert {"AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAnonymousIpList", "RatePerIp"} <= rules


def test_user_pool_client_is_public_and_srp_only(applied: dict[str, Any], moto_server: ChildServer) -> None:
    described = client("cognito-idp", moto_server).describe_user_pool_client(
        UserPoolId=applied["user_pool_id"], ClientId=applied["user_pool_client_id"]
    )["UserPoolClient"]
    assert "ClientSecret" not in described
    assert set(described["ExplicitAuthFlows"]) == {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
