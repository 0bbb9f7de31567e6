"""Lambic's deployer: packaging and deploying an app to AWS Lambda and API Gateway.

Data moves one way::

    app.py registry + .lambic/config.json
        → ResourceGraph (resources.py: functions, API, event bindings, role)
        → SAM template (sam.py) | Terraform JSON (terraform.py) | deploy:
          DesiredResource list (planner.py) vs DeployedRecord (records.py)
          → Plan → Executor (executor.py, boto3) → .lambic/deployed/<stage>.json

The zip comes from packager.py (+ wheels.py for requirements), the role's policy
from policy.py (+ iam_analysis.py, reading the code's boto3 calls), CloudWatch logs
of a deployed stage from logs.py. Errors derive from `DeployError` (errors.py).
"""

from __future__ import annotations

from lambic.deploy.deployable import Deployable, load_deployable
from lambic.deploy.deployer import delete, deploy, url
from lambic.deploy.errors import (
    AppLoadError,
    AWSError,
    ConfigError,
    DeleteRefusedError,
    DeployError,
    PackagingError,
    PolicyError,
    RecordError,
)
from lambic.deploy.logs import DeployedLogEvent, read_deployed_logs
from lambic.deploy.packager import Package, build_package
from lambic.deploy.planner import Plan, Planner
from lambic.deploy.policy import generate_policy
from lambic.deploy.records import DeployedRecord, load_record
from lambic.deploy.resources import ResourceGraph, build_graph
from lambic.deploy.sam import build_sam
from lambic.deploy.terraform import build_terraform
from lambic.project.config import StageConfig, load_stage_config

__all__ = [
    "AWSError",
    "AppLoadError",
    "ConfigError",
    "DeleteRefusedError",
    "DeployError",
    "Deployable",
    "DeployedLogEvent",
    "DeployedRecord",
    "Package",
    "PackagingError",
    "Plan",
    "Planner",
    "PolicyError",
    "RecordError",
    "ResourceGraph",
    "StageConfig",
    "build_graph",
    "build_package",
    "build_sam",
    "build_terraform",
    "delete",
    "deploy",
    "generate_policy",
    "load_deployable",
    "load_record",
    "load_stage_config",
    "read_deployed_logs",
    "url",
]
