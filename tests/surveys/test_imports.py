"""The domain package stays free of adapters: dependencies point inward."""

import subprocess
import sys


def test_surveys_imports_no_telegram_pandas_or_plotly() -> None:
    """Importing every surveys module loads neither telegram, pandas nor plotly."""
    code = (
        "import sys, surveys.engine, surveys.loader, surveys.store, surveys.flow\n"
        "bad = [m for m in ('telegram', 'pandas', 'plotly') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
