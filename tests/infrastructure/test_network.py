"""VPC placement exactly when asked; CreateDatabase=true: private subnets, proxy, one-way security groups."""

from __future__ import annotations

import ipaddress

import pytest

from tests.infrastructure.conftest import SCENARIOS, Stack

CREATED_SUBNETS = ["PrivateSubnetA", "PrivateSubnetB"]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_vpc_config_appears_exactly_when_asked(stacks: dict[str, Stack], scenario: str) -> None:
    stack = stacks[scenario]
    parameters = SCENARIOS[scenario]
    for function, props in stack.functions().items():
        if parameters.get("CreateDatabase") == "true":
            assert props["VpcConfig"] == {"SubnetIds": CREATED_SUBNETS, "SecurityGroupIds": ["FunctionsSecurityGroup"]}
        elif parameters.get("SubnetIds"):
            assert props["VpcConfig"] == {"SubnetIds": parameters["SubnetIds"].split(","),
                                          "SecurityGroupIds": parameters["SecurityGroupIds"].split(",")}
        else:
            assert "VpcConfig" not in props, function


def test_without_create_database_no_network_or_database_is_created(stacks: dict[str, Stack]) -> None:
    for scenario in ("default", "existing_vpc", "snapstart"):
        stack = stacks[scenario]
        for rtype in ("AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::VPCEndpoint", "AWS::EC2::SecurityGroup",
                      "AWS::RDS::DBCluster", "AWS::RDS::DBInstance", "AWS::RDS::DBProxy"):
            assert stack.resources(rtype) == {}, (scenario, rtype)


def test_created_subnets_are_private_in_two_zones(create_db: Stack) -> None:
    vpc = create_db.properties("Vpc")
    subnets = [create_db.properties(s) for s in CREATED_SUBNETS]
    assert {s["AvailabilityZone"] for s in subnets} == {"us-east-1a", "us-east-1b"}
    network = ipaddress.ip_network(vpc["CidrBlock"])
    for subnet in subnets:
        assert subnet["MapPublicIpOnLaunch"] is False
        assert ipaddress.ip_network(subnet["CidrBlock"]).subnet_of(network)  # type: ignore[arg-type]
    # No way out to the internet: no gateway, no NAT, no route but the VPC's own and the gateway endpoints
    for rtype in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::Route", "AWS::EC2::EIP"):
        assert create_db.resources(rtype) == {}, rtype
    # Both subnets use the one private route table
    associations = create_db.resources("AWS::EC2::SubnetRouteTableAssociation").values()
    assert sorted(a["SubnetId"] for a in associations) == CREATED_SUBNETS
    assert {a["RouteTableId"] for a in associations} == {"PrivateRouteTable"}


def test_the_proxy_is_in_the_private_subnets_requires_tls_and_fronts_the_cluster(create_db: Stack) -> None:
    (proxy_id, proxy), = create_db.resources("AWS::RDS::DBProxy").items()
    assert proxy["VpcSubnetIds"] == CREATED_SUBNETS
    assert proxy["RequireTLS"] is True
    assert proxy["EngineFamily"] == "POSTGRESQL"
    assert proxy["Auth"] == [{"AuthScheme": "SECRETS", "SecretArn": "DatabaseCluster.MasterUserSecret.SecretArn",
                              "IAMAuth": "DISABLED", "ClientPasswordAuthType": "POSTGRES_SCRAM_SHA_256"}]
    (target_group,) = create_db.resources("AWS::RDS::DBProxyTargetGroup").values()
    assert target_group["DBProxyName"] == proxy_id
    assert target_group["DBClusterIdentifiers"] == ["DatabaseCluster"]
    pool = target_group["ConnectionPoolConfigurationInfo"]
    assert int(pool["MaxConnectionsPercent"]) == 90 and int(pool["ConnectionBorrowTimeout"]) == 5
    # The functions connect to the proxy endpoint, not to the cluster the secret names
    for function in create_db.functions():
        assert create_db.environment(function)["DB_HOST"] == "DatabaseProxy.Endpoint"


def test_aurora_serverless_v2_is_private_encrypted_with_a_managed_secret(create_db: Stack) -> None:
    cluster = create_db.properties("DatabaseCluster")
    assert cluster["Engine"] == "aurora-postgresql"
    assert cluster["ManageMasterUserPassword"] is True and "MasterUserPassword" not in cluster
    assert cluster["StorageEncrypted"] is True
    assert cluster["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4}
    assert cluster["VpcSecurityGroupIds"] == ["DatabaseSecurityGroup"]
    assert create_db.properties("DatabaseSubnetGroup")["SubnetIds"] == CREATED_SUBNETS
    instance = create_db.properties("DatabaseInstance")
    assert instance["DBInstanceClass"] == "db.serverless" and instance["PubliclyAccessible"] is False
    assert create_db.raw("DatabaseCluster")["DeletionPolicy"] == "Snapshot"


def test_security_groups_admit_functions_to_proxy_to_database_only(create_db: Stack) -> None:
    ingress = {(r["GroupId"], r["SourceSecurityGroupId"], r["FromPort"])
               for r in create_db.resources("AWS::EC2::SecurityGroupIngress").values()}
    assert ingress == {("ProxySecurityGroup", "FunctionsSecurityGroup", 5432),
                       ("DatabaseSecurityGroup", "ProxySecurityGroup", 5432),
                       ("EndpointsSecurityGroup", "FunctionsSecurityGroup", 443),
                       ("EndpointsSecurityGroup", "ProxySecurityGroup", 443)}
    for group in create_db.resources("AWS::EC2::SecurityGroup").values():
        assert "SecurityGroupIngress" not in group  # nothing else gets in, from anywhere
    egress = {(r["GroupId"], r["DestinationSecurityGroupId"], r["FromPort"])
              for r in create_db.resources("AWS::EC2::SecurityGroupEgress").values()}
    assert egress == {("FunctionsSecurityGroup", "ProxySecurityGroup", 5432),
                      ("ProxySecurityGroup", "DatabaseSecurityGroup", 5432),
                      ("ProxySecurityGroup", "EndpointsSecurityGroup", 443)}


@pytest.mark.parametrize(("scenario", "interface"), [
    ("create_db", {"secretsmanager", "ssm"}),   # the JWT secret is an SSM parameter there
    ("create_db_xray", {"secretsmanager", "xray"}),
])
def test_endpoints_cover_what_the_functions_call(stacks: dict[str, Stack], scenario: str, interface: set[str]) -> None:
    endpoints = stacks[scenario].resources("AWS::EC2::VPCEndpoint").values()
    services = {e["ServiceName"].rsplit(".", 1)[1]: e for e in endpoints}
    # DynamoDB (protection tables) and S3 (the custom resource's answer to CloudFormation) through gateways
    for gateway in ("dynamodb", "s3"):
        assert services[gateway]["VpcEndpointType"] == "Gateway"
        assert services[gateway]["RouteTableIds"] == ["PrivateRouteTable"]
    created = {name for name, e in services.items() if e["VpcEndpointType"] == "Interface"}
    assert created == interface
    for name in interface:
        assert services[name]["PrivateDnsEnabled"] is True
        assert services[name]["SubnetIds"] == CREATED_SUBNETS
        assert services[name]["SecurityGroupIds"] == ["EndpointsSecurityGroup"]


def test_migrations_run_in_the_vpc_after_the_proxy_has_its_target(create_db: Stack, default: Stack) -> None:
    assert create_db.properties("MigrationsFunction")["VpcConfig"]["SubnetIds"] == CREATED_SUBNETS
    role = create_db.properties("MigrationsRole")
    assert "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole" in role["ManagedPolicyArns"]
    assert create_db.properties("SchemaMigrations")["DatabaseReady"] == "DatabaseProxyTargetGroup"
    # A change of session settings is a property change: CloudFormation calls the migrations again (role timeout)
    assert create_db.properties("SchemaMigrations")["SessionSettings"] == "role"
    assert default.properties("SchemaMigrations")["SessionSettings"] == "startup"
    assert create_db.raw("DatabaseProxyTargetGroup")["DependsOn"] == "DatabaseInstance"
    # Outside a VPC the migrations role has no ENI permissions
    assert not any("VPCAccess" in arn for arn in default.properties("MigrationsRole")["ManagedPolicyArns"])
