"""Package discovery (everything else is in pyproject.toml).

Every package under ``mlprims/`` is found automatically, so a new family folder cannot be left
out of the wheel; the root folder ``backends/`` is installed as the subpackage
``mlprims.backends`` (see README, Layout). ``tests/test_wheel.py`` builds the wheel and checks it.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["mlprims", "mlprims.*"]), "mlprims.backends"],
    package_dir={"mlprims.backends": "backends"},
)
