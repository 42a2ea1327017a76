# SPDX-License-Identifier: GPL-2.0
"""Static checks, for both kernel lines: W=1 and sparse builds against
every guest kernel, each line's checkpatch.pl --strict, and the
conformance table against the spec and the tests; zero findings each."""

import os
import subprocess

import pytest

from guest import TOP


@pytest.mark.lint
@pytest.mark.parametrize('check', [
    'stock', 'test', 'stock-6.12', 'test-6.12', 'checkpatch', 'checkpatch-6.12',
    'conformance'],
    ids=['w1-sparse-stock', 'w1-sparse-test', 'w1-sparse-stock-6.12',
         'w1-sparse-test-6.12', 'checkpatch', 'checkpatch-6.12',
         'conformance'])
def test_lint(check):
    p = subprocess.run([os.path.join(TOP, 'scripts', 'lint.sh'), check],
                       capture_output=True, text=True)
    assert p.returncode == 0, 'findings:\n' + p.stdout + p.stderr
