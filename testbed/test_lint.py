# SPDX-License-Identifier: GPL-2.0
"""Static checks: W=1 and sparse builds against both guest kernels, and
the kernel's checkpatch.pl --strict; zero findings each."""

import os
import subprocess

import pytest

from guest import TOP


@pytest.mark.lint
@pytest.mark.parametrize('check', ['stock', 'test', 'checkpatch'],
                         ids=['w1-sparse-stock', 'w1-sparse-test', 'checkpatch'])
def test_lint(check):
    p = subprocess.run([os.path.join(TOP, 'scripts', 'lint.sh'), check],
                       capture_output=True, text=True)
    assert p.returncode == 0, 'findings:\n' + p.stdout + p.stderr
