"""The README's HTTP API section runs as written: its `sh` examples are taken from the README, and every curl
in them is run against a fresh `python -m bot api` process (an empty database, one token), and must succeed
(2xx). Only the two lines that hold the reader's own values (`API=`, `TOKEN=`) are given this server's."""

from __future__ import annotations

import asyncio
import os
import re
import shutil

import pytest

from tests.api.test_processes import ApiProcess, cli, environment, free_port, write_config
from tests.standin.process import REPOSITORY

DISCAL_GUILD = 375357265198317579  # the guild the README's DisCal examples name (the DisCal document's)
README = REPOSITORY / "README.md"
OWN_VALUES = re.compile(r"^(API|TOKEN)=.*$", re.MULTILINE)
# Any answer other than 2xx fails the script (with the answer's body printed).
PRELUDE = 'set -euo pipefail\ncurl() { command curl --silent --show-error --fail-with-body "$@"; echo; }\n'


def api_examples() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## HTTP API\n") :]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    return "\n".join(block for block in blocks if "curl " in block)


def test_the_api_section_has_examples_of_both_dialects():
    examples = api_examples()
    assert "/v2/events/batch" in examples and "/v1/events/create" in examples and "/api/v1/events/" in examples
    assert OWN_VALUES.search(examples)


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("jq") is None, reason="needs curl and jq")
async def test_the_readmes_curl_examples_run_against_a_fresh_api(tmp_path):
    port = free_port()
    config = write_config(tmp_path, port)
    created = await asyncio.to_thread(cli, config, "token", "create", "--guild", str(DISCAL_GUILD))
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    api = ApiProcess(config)
    await api.start()
    try:
        await api.wait_listening(port)
        script = PRELUDE + OWN_VALUES.sub("", api_examples())
        shell = await asyncio.create_subprocess_exec(
            "bash", "-c", script,
            env={**environment(), "API": f"http://127.0.0.1:{port}", "TOKEN": token, "PATH": os.environ["PATH"]},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(shell.communicate(), timeout=60)
    finally:
        api.process.terminate()
        await api.process.wait()
    output = out.decode() + err.decode()
    assert shell.returncode == 0, output
    answers = [line for line in out.decode().splitlines() if line.startswith("{")]
    assert len(answers) >= 7, output  # each curl answered JSON (those read by jq are not printed)
    assert '"message":"Successfully deleted event!"' in output
