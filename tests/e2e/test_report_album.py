"""/report through the fake Bot API: every album photo captioned, all partners, the PDF beside."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfReader

from trustscan.simulation import simulate_wave

from .conftest import FACILITATOR, open_wave
from .conftest import store_of as store
from .fake_telegram import FakeUser

pytestmark = pytest.mark.needs_chromium


async def test_report_album_is_captioned_and_the_pdf_follows_the_html(app, server) -> None:
    """Captions name survey, measurement, what and n; culture shows every partner; PDF sent."""
    services = app.bot_data["services"]
    config = services.config
    names = {}
    for number, survey_id in enumerate(("trust", "culture"), start=1):
        wave = await open_wave(app, survey_id)
        await simulate_wave(
            store(app), services.registry[survey_id], wave.id, 1, config.partners(), seed=number
        )
        await store(app).close_wave(wave.id)
        services.forget_wave(wave.id)
        names[survey_id] = wave.name
    boss = FakeUser(server, FACILITATOR)
    await boss.send("/report")
    documents = await server.wait_for(
        lambda: len(server.calls_of("sendDocument")) >= 2 and server.calls_of("sendDocument"),
        timeout=180,
    )
    album = [m for call in server.calls_of("sendMediaGroup") for m in call.params["media"]]
    captions = [item["caption"].splitlines() for item in album]
    titles = {s: services.registry[s].title.get("nl") for s in names}
    assert len(album) == 5  # three of the trust scan, two of the culture scan
    for lines in captions[:3]:
        assert lines[0] == f"{titles['trust']} · {names['trust']}"
    for lines in captions[3:]:
        assert lines[0] == f"{titles['culture']} · {names['culture']}"
    assert all(len(lines) == 3 and lines[2].startswith("n = ") for lines in captions)
    assert all(int(lines[2].removeprefix("n = ").replace(".", "")) > 0 for lines in captions)
    assert captions[0][1].startswith("Scores per organisatie")
    assert captions[-1][1] == "Cultuurprofiel nu en gewenst, alle partners"
    assert len({"\n".join(c) for c in captions}) == len(captions)  # no two alike
    pngs = [server.files[m["photo"][-1]["file_id"]] for m in server.sent_to(FACILITATOR)
            if "photo" in m]  # fmt: skip
    assert len(pngs) == 5
    assert {Image.open(io.BytesIO(png)).size[0] for png in pngs} == {1080}  # 540 px at 2x
    html, pdf = (call.params for call in documents[-2:])
    assert html["filename"].endswith(".html") and pdf["filename"] == "trustscan-rapport.pdf"
    assert pdf["caption"] == html["caption"]
    cover = PdfReader(io.BytesIO(pdf["document"])).pages[0].extract_text()
    assert config.partnership in cover and "Vertrouwelijk" in cover
    assert names["trust"] in cover and names["culture"] in cover
