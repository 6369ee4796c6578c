"""Each install that pyproject.toml offers provides what its commands import.

A command (or the test suite's configuration) runs in a child process where every installed
distribution that the install does not promise is made unimportable: its modules raise
ModuleNotFoundError, as if pip had never installed them. What an install promises is read from
pyproject.toml (the base dependencies plus the extras named) and closed over the dependencies
of what is installed here, as pip would resolve them.
"""

from __future__ import annotations

import importlib.metadata
import json
import pathlib
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest depends on tomli before Python 3.11
    import tomli as tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS: dict[str, list[str]] = PROJECT["optional-dependencies"]


def _promised(extras: tuple[str, ...]) -> set[str]:
    """The distributions `pip install 'mlprims[extras]'` brings, as installed here."""
    wanted = [Requirement(r) for r in PROJECT["dependencies"]]
    wanted += [Requirement(r) for extra in extras for r in EXTRAS[extra]]
    promised = {"mlprims"}
    while wanted:
        requirement = wanted.pop()
        name = canonicalize_name(requirement.name)
        if name == "mlprims":  # mlprims[torch,jax,...] in `all`
            wanted += [Requirement(r) for extra in requirement.extras for r in EXTRAS[extra]]
            continue
        if name in promised:
            continue
        promised.add(name)
        for line in importlib.metadata.requires(name) or ():
            dependency = Requirement(line)
            environments = [{"extra": e} for e in ("", *requirement.extras)]
            marker = dependency.marker
            if marker is None or any(marker.evaluate(env) for env in environments):
                wanted.append(dependency)
    return promised


def _absent(promised: set[str]) -> tuple[set[str], set[str]]:
    """The top-level modules and the pytest plugins of the distributions not `promised`."""
    modules = {
        module
        for module, distributions in importlib.metadata.packages_distributions().items()
        if not {canonicalize_name(d) for d in distributions} & promised
        and module not in sys.stdlib_module_names
    }
    plugins = {
        entry.name
        for entry in importlib.metadata.entry_points(group="pytest11")
        if entry.dist is not None and canonicalize_name(entry.dist.name) not in promised
    }
    return modules, plugins


_SITECUSTOMIZE = """
import sys

ABSENT = frozenset({modules!r})


class WithoutAbsent:
    \"\"\"A finder of sys.meta_path that finds nothing of the absent distributions.\"\"\"

    def __init__(self, finder):
        self.finder = finder

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ABSENT:
            return None
        return self.finder.find_spec(name, path, target)

    def __getattr__(self, name):
        return getattr(self.finder, name)


sys.meta_path[:] = [WithoutAbsent(finder) for finder in sys.meta_path]
"""


def _child(extras: tuple[str, ...], tmp_path: pathlib.Path, *command: str) -> Any:
    """Run `command` in a Python that has only what ``mlprims[extras]`` installs."""
    modules, plugins = _absent(_promised(extras))
    (tmp_path / "sitecustomize.py").write_text(_SITECUSTOMIZE.format(modules=sorted(modules)))
    if "pytest" in command:  # an uninstalled plugin is not loaded
        command += tuple(f"-pno:{plugin}" for plugin in sorted(plugins))
    env = {"PATH": "", "PYTHONPATH": str(tmp_path), "MPLBACKEND": "Agg", "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, *command], cwd=tmp_path, env=env, capture_output=True, text=True
    )


def _run_with(extras: tuple[str, ...], tmp_path: pathlib.Path, *command: str) -> str:
    """The output of `command` run with only ``mlprims[extras]`` (it must succeed)."""
    result = _child(extras, tmp_path, *command)
    what = f"with mlprims[{','.join(extras)}]"
    assert result.returncode == 0, f"{what}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
    return str(result.stdout)


def test_the_absent_modules_are_absent(tmp_path: pathlib.Path) -> None:
    """The check itself: without the `test` extra, hypothesis cannot be imported."""
    modules, _ = _absent(_promised(()))
    assert {"hypothesis", "torch", "jax", "pytest"} <= modules
    result = _child((), tmp_path, "-c", "import hypothesis")
    assert result.returncode == 1 and "No module named 'hypothesis'" in result.stderr


def test_practice_writes_a_template_on_the_base_install(tmp_path: pathlib.Path) -> None:
    out = _run_with((), tmp_path, "-m", "mlprims", "practice", "softmax")
    assert "wrote softmax.py" in out
    assert "def softmax(x, /, *, axis=-1):" in (tmp_path / "softmax.py").read_text()


def test_grade_runs_with_the_practice_extra(tmp_path: pathlib.Path) -> None:
    answer = """
        import numpy as np

        def softmax(x, axis=-1):
            e = np.exp(x - np.max(x, axis=axis, keepdims=True))
            return e / np.sum(e, axis=axis, keepdims=True)
    """
    (tmp_path / "answer.py").write_text(textwrap.dedent(answer))
    command = ("-m", "mlprims", "grade", "answer.py", "--primitive", "softmax", "--examples", "3")
    assert "3/3 properties passed" in _run_with(("practice",), tmp_path, *command)


def test_grade_without_the_practice_extra_names_it(tmp_path: pathlib.Path) -> None:
    (tmp_path / "answer.py").write_text("def softmax(x, axis=-1):\n    return x\n")
    command = ("-m", "mlprims", "grade", "answer.py", "--primitive", "softmax")
    result = _child((), tmp_path, *command)
    assert result.returncode == 2
    assert "pip install 'mlprims[practice]'" in result.stderr


@pytest.mark.parametrize(
    ("extras", "backend"),
    [((), "numpy"), (("torch",), "torch"), (("jax",), "jax"), (("strict",), "array_api_strict")],
)
def test_check_runs_with_its_backends_extra(extras, backend, tmp_path: pathlib.Path) -> None:
    command = ("-m", "mlprims", "check", "--backends", backend, "--primitives", "softmax")
    assert "all agree" in _run_with(extras, tmp_path, *command)


def test_dask_extra_brings_a_distributed_that_imports(tmp_path: pathlib.Path) -> None:
    script = "import dask.array, distributed; print(distributed.__version__, dask.__version__)"
    distributed_version, dask_version = _run_with(("dask",), tmp_path, "-c", script).split()
    assert distributed_version == dask_version  # one release: dask's extra pins it


def test_the_test_extra_runs_the_pytest_configuration(tmp_path: pathlib.Path) -> None:
    """pyproject's addopts (``-n auto``, doctests of every module under mlprims/) and the
    conftest, on two short test files, with only ``mlprims[test]``: no framework installed."""
    paths = [str(ROOT / p) for p in ("tests/test_array.py", "tests/test_special.py", "mlprims")]
    args = ("-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT), "-q")
    out = _run_with(("test",), tmp_path, *args, "-n", "2", "-p", "no:cacheprovider", *paths)
    assert " passed" in out


def test_hf_extra_loads_a_checkpoint(tmp_path: pathlib.Path) -> None:
    """from_pretrained with only the hf extra: safetensors' NumPy API, no torch."""
    import numpy as np

    folder = tmp_path / "ckpt"
    folder.mkdir()
    config = {
        "model_type": "llama",
        "vocab_size": 5,
        "hidden_size": 4,
        "intermediate_size": 6,
        "num_hidden_layers": 1,
        "num_attention_heads": 1,
        "tie_word_embeddings": True,
    }
    (folder / "config.json").write_text(json.dumps(config))
    shapes = {
        "model.embed_tokens.weight": (5, 4),
        "model.norm.weight": (4,),
        "model.layers.0.input_layernorm.weight": (4,),
        "model.layers.0.post_attention_layernorm.weight": (4,),
        "model.layers.0.self_attn.q_proj.weight": (4, 4),
        "model.layers.0.self_attn.k_proj.weight": (4, 4),
        "model.layers.0.self_attn.v_proj.weight": (4, 4),
        "model.layers.0.self_attn.o_proj.weight": (4, 4),
        "model.layers.0.mlp.gate_proj.weight": (6, 4),
        "model.layers.0.mlp.up_proj.weight": (6, 4),
        "model.layers.0.mlp.down_proj.weight": (4, 6),
    }
    from safetensors.numpy import save_file

    save_file({k: np.ones(v, np.float32) for k, v in shapes.items()}, folder / "model.safetensors")
    code = (
        "import numpy as np, sys\n"
        "from mlprims.models import from_pretrained\n"
        f"model = from_pretrained({str(folder)!r})\n"
        "print(model(np.array([[1, 2]])).shape, 'torch' in sys.modules)\n"
    )
    out = _run_with(("hf",), tmp_path, "-c", code)
    assert out.strip().endswith("(1, 2, 5) False"), out


def test_from_pretrained_without_the_hf_extra_names_it(tmp_path: pathlib.Path) -> None:
    config = {"model_type": "llama", "vocab_size": 5, "hidden_size": 4, "intermediate_size": 6}
    config |= {"num_hidden_layers": 1, "num_attention_heads": 1}
    (tmp_path / "config.json").write_text(json.dumps(config))
    code = f"from mlprims.models import from_pretrained; from_pretrained({str(tmp_path)!r})"
    result = _child((), tmp_path, "-c", code)
    assert result.returncode == 1 and "pip install 'mlprims[hf]'" in result.stderr
