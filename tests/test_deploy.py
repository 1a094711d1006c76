"""The deployment files agree with the code: the example config loads, names and paths match what the bot reads."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.cli import build_parser
from bot.config import _ENV, Config, load_config

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def test_the_example_config_loads_and_its_values_are_the_defaults():
    config = load_config(DEPLOY / "config.example.toml", env={})
    defaults = Config()
    for name in tomllib.loads((DEPLOY / "config.example.toml").read_text(encoding="utf-8")):
        assert getattr(config, name) == getattr(defaults, name), name


def test_the_example_config_documents_every_setting():
    text = (DEPLOY / "config.example.toml").read_text(encoding="utf-8")
    missing = [name for name in Config.__dataclass_fields__ if not re.search(rf"^#? ?{name} =", text, re.M)]
    assert missing in ([], ["faq_dir"]), missing


def test_compose_gives_the_bot_the_variables_it_reads():
    compose = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    bot_section = compose.split("\n  bot:\n", 1)[1]
    for variable in ("WECHATY_PUPPET_SERVICE_ENDPOINT", "WECHATY_PUPPET_SERVICE_TOKEN", "PERMITBOT_DB"):
        assert variable in _ENV and f"{variable}:" in bot_section
    assert "WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER" in compose.split("\n  bot:\n", 1)[0]


def test_every_variable_in_the_env_example_is_used_by_compose():
    compose = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    names = re.findall(r"^#?([A-Z_]+)=", (DEPLOY / ".env.example").read_text(encoding="utf-8"), re.M)
    assert names and all("${" + name in compose for name in names), names


def test_the_unit_and_the_image_run_a_command_that_exists():
    unit = (DEPLOY / "permitbot.service").read_text(encoding="utf-8")
    exec_start = re.search(r"^ExecStart=\S+/permitbot (.*)$", unit, re.M).group(1).split()
    assert build_parser().parse_args(exec_start).command == "serve"
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    cmd = re.search(r'^CMD \[(.*)\]$', dockerfile, re.M).group(1)
    assert build_parser().parse_args(re.findall(r'"([^"]+)"', cmd)).command == "serve"


def test_the_image_copies_every_package():
    pyproject = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text(encoding="utf-8"))
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]:
        top = pattern.rstrip("*")
        assert f"COPY {top} ./{top}" in dockerfile, top


def test_doctor_is_referred_to_from_both_guides_with_a_command_that_parses():
    for guide in (DEPLOY.parent / "README.md", DEPLOY / "README.md"):
        assert "permitbot doctor" in guide.read_text(encoding="utf-8"), guide
    guide = (DEPLOY / "README.md").read_text(encoding="utf-8")
    compose_line = re.search(r"^docker compose run --rm bot (doctor .*)$", guide, re.M).group(1)
    assert build_parser().parse_args(compose_line.split()).command == "doctor"
    unit = (DEPLOY / "permitbot.service").read_text(encoding="utf-8")
    assert "Environment=TZ=Asia/Shanghai" in unit and "TZ=Asia/Shanghai" in (DEPLOY / "Dockerfile").read_text()
