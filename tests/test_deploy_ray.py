"""The declarative Ray deploys in deploy/ray/: valid YAML, accepted by Ray Serve's own config
schema, naming the rtt deployments and an import path that builds them from the named config."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytest.importorskip("ray.serve")

from ray.serve.schema import ServeDeploySchema  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RAY = REPO / "deploy" / "ray"


def _check_serve_config(doc: dict) -> None:
    schema = ServeDeploySchema.model_validate(doc) if hasattr(ServeDeploySchema, "model_validate") \
        else ServeDeploySchema.parse_obj(doc)
    (app,) = schema.applications
    assert app.import_path == "serve.scaleout.app:app_builder" and app.route_prefix == "/"
    from serve.scaleout.app import INGRESS, app_builder
    from serve.scaleout.pools import pool_name

    names = {d.name for d in app.deployments}
    assert INGRESS in names and pool_name("accurate") in names
    assert callable(app_builder)


def test_serve_config_validates_and_names_the_deployments() -> None:
    _check_serve_config(yaml.safe_load((RAY / "serve-config.yaml").read_text()))


def test_the_cluster_config_loads_with_its_pools() -> None:
    from rtt.config import load_config
    from serve.settings import load_serve_settings

    settings = load_serve_settings(load_config(RAY / "rtt-cluster.yaml"))
    assert set(settings.ray.mt_pools) == {"fast", "accurate"} and settings.ray.ingress_replicas >= 2


def test_kuberay_rayservice_has_what_it_needs() -> None:
    doc = yaml.safe_load((RAY / "rayservice.yaml").read_text())
    assert doc["apiVersion"] == "ray.io/v1" and doc["kind"] == "RayService"
    spec = doc["spec"]
    _check_serve_config(yaml.safe_load(spec["serveConfigV2"]))
    cluster = spec["rayClusterConfig"]
    import ray

    assert cluster["rayVersion"] == ray.__version__  # the image's Ray is the one tested here
    assert cluster["headGroupSpec"]["template"]["spec"]["containers"]
    groups = {g["groupName"]: g for g in cluster["workerGroupSpecs"]}
    assert {"live", "refine"} <= set(groups)
    for g in groups.values():
        assert g["minReplicas"] <= g["replicas"] <= g["maxReplicas"]
        assert g["template"]["spec"]["containers"][0]["resources"]["limits"]
    # the custom resources the deployments ask for exist on some worker group
    serve_cfg = yaml.safe_load(spec["serveConfigV2"])
    wanted = {r for d in serve_cfg["applications"][0]["deployments"]
              for r in (d.get("ray_actor_options", {}).get("resources") or {})}
    offered = {r for g in groups.values() for r in yaml.safe_load(yaml.safe_load(g["rayStartParams"]["resources"]))}
    assert wanted <= offered
