import pytest


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    """Uploaded files go to a folder that disappears with the test, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
