"""Mail, text messages and webhooks as members and admins see them: opting in with a code, reminders
delivered once to real local servers (tests/channels.py), failures retried or recorded, addresses never shown."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import pytest

from bot.config import load_config
from bot.domain.errors import InvalidField, NotFound
from bot.domain.rsvp import GOING, MAYBE, NOT_GOING, ONE_OFF
from bot.logs import QUIET_LOGGERS
from tests.channels import HttpReceiver, SmtpRecorder
from tests.conftest import QUIET_SYNC, write_config

MINUTE = 60
START = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)  # "in 1 hour" on SimCord's clock
ALICE_MAIL, BOB_MAIL = "alice@example.org", "bob.b@example.net"
ALICE_PHONE = "+4915123456789"


@pytest.fixture
def smtp():
    server = SmtpRecorder()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def http():
    server = HttpReceiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def config(tmp_path, smtp, http):
    body = QUIET_SYNC + (
        f'[mail]\nhost = "127.0.0.1"\nport = {smtp.port}\ntls = "none"\nfrom_address = "calbot@example.com"\n'
        f'[sms]\napi_base_url = "{http.url("/2010-04-01")}"\naccount_id = "AC123"\nsender = "+15005550006"\n'
        "[broadcast]\nallow_private_targets = true\nfailure_threshold = 3\n"
    )
    return load_config(str(write_config(tmp_path, body)), environ={"DISCORD_TOKEN": "t", "CALBOT_SMS_TOKEN": "tok"})


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


async def confirm_mail(world, smtp, member, address):
    res = await member.slash(world.general, "me email address", address=address)
    assert res.ephemeral and "We sent a code to" in reply(res), reply(res)
    [mail] = smtp.to(address)[-1:]
    done = await member.slash(world.general, "me email verify", code=code_in(mail.get_content()))
    assert "Confirmed" in done.response.content, done.response.content


async def create(world, **options):
    options = {"name": "Raid", "start": "in 1 hour", "reminders": "pt15m", **options}
    res = await world.admin.slash(world.general, "event create", **options)
    assert "Created" in res.response.content, res.response.content


async def answer(world, member, status, event_id=1):
    await world.bot.store.attendees.respond(world.guild.id, event_id, ONE_OFF, member.id, status, None)


def reply(res) -> str:
    return res.followups[-1].content if res.followups else res.response.content


async def test_a_confirmed_address_gets_one_reminder_mail_with_text_html_and_ics(world, smtp):
    await confirm_mail(world, smtp, world.alice, ALICE_MAIL)
    await world.alice.slash(world.general, "me timezone", timezone="Europe/Berlin")
    await create(world, channels="public mail", location="Castle")
    await answer(world, world.alice, GOING)
    await world.env.advance_time(45 * MINUTE)
    await world.env.advance_time(MINUTE)
    [mail] = smtp.to(ALICE_MAIL)[1:]  # after the code
    assert mail["Subject"] == "Reminder: Raid"
    assert mail["Message-ID"].startswith("<reminder.") and mail["Message-ID"].endswith("@example.com>")
    text = mail.get_body(("plain",)).get_content()
    assert "Thursday 01 January 2026, 02:00 CET (Europe/Berlin)" in text  # her zone, not the event's UTC
    assert "Where: Castle" in text and f"https://discord.com/channels/{world.guild.id}/" in text
    assert "<a href=" in mail.get_body(("html",)).get_content()
    [ics] = [part for part in mail.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert "SUMMARY:Raid" in ics.get_content() and ics.get_filename() == "raid.ics"
    await world.env.advance_time(60 * MINUTE)
    assert len(smtp.to(ALICE_MAIL)) == 2  # the code and one reminder, never two


async def test_only_confirmed_members_going_or_maybe_get_mail(world, smtp):
    await confirm_mail(world, smtp, world.alice, ALICE_MAIL)
    await world.bob.slash(world.general, "me email address", address=BOB_MAIL)  # never confirmed
    await create(world, channels="mail")
    await answer(world, world.alice, MAYBE)
    await answer(world, world.bob, GOING)
    await answer(world, world.admin, NOT_GOING)
    await world.env.advance_time(46 * MINUTE)
    assert len(smtp.to(ALICE_MAIL)) == 2
    assert len(smtp.to(BOB_MAIL)) == 1  # the code only


async def test_a_wrong_code_is_refused_and_clear_forgets_the_address(world, smtp):
    await world.alice.slash(world.general, "me email address", address=ALICE_MAIL)
    res = await world.alice.slash(world.general, "me email verify", code="000000x")
    world.refused(res, InvalidField, "not the code we sent; 4 tries left")
    assert "waits for the code" in (await world.alice.slash(world.general, "me show")).response.content
    [mail] = smtp.to(ALICE_MAIL)
    await world.alice.slash(world.general, "me email verify", code=code_in(mail.get_content()))
    shown = (await world.alice.slash(world.general, "me show")).response.content
    assert "Mail: to `a…@example.org`, confirmed." in shown and ALICE_MAIL not in shown
    cleared = await world.alice.slash(world.general, "me email clear")
    assert "forgotten" in cleared.response.content
    assert await world.bot.store.contacts.get(world.alice.id, "mail") is None


async def test_an_invalid_address_is_refused_before_anything_is_sent(world, smtp):
    res = await world.alice.slash(world.general, "me email address", address="not an address")
    world.refused(res, InvalidField, "is not a mail address")
    assert smtp.received == []


async def test_a_4xx_is_retried_and_a_5xx_fails_with_its_reason(world, smtp):
    await confirm_mail(world, smtp, world.alice, ALICE_MAIL)
    await confirm_mail(world, smtp, world.bob, BOB_MAIL)
    await create(world, channels="mail")
    await answer(world, world.alice, GOING)
    await world.env.advance_time(44 * MINUTE)
    smtp.answers.extend(["451 4.3.0 try again later"])
    await world.env.advance_time(MINUTE)
    assert len(smtp.to(ALICE_MAIL)) == 1  # refused for now
    await world.env.advance_time(10)  # the backoff
    assert len(smtp.to(ALICE_MAIL)) == 2
    await create(world, name="Feast", channels="mail")
    await answer(world, world.bob, GOING, event_id=2)
    smtp.answers.extend([f"550 5.1.1 <{BOB_MAIL}> mailbox unavailable"])
    await world.env.advance_time(46 * MINUTE)
    await world.env.advance_time(10 * MINUTE)
    assert len(smtp.to(BOB_MAIL)) == 1  # the code only: a 5xx is not retried
    log = (await world.alice.slash(world.general, "notifications")).response.embeds[0].description
    assert f"mail to <@{world.bob.id}> · failed: the mail server answered 550 5.1.1 <the address> mailbox" in log
    assert BOB_MAIL not in log and ALICE_MAIL not in log


# ---- sms


async def confirm_phone(world, http, member, number):
    res = await member.slash(world.general, "me phone number", number=number)
    assert "We sent a code to" in reply(res), reply(res)
    return await member.slash(world.general, "me phone verify", code=code_in(http.calls[-1].form["Body"]))


async def test_a_phone_number_is_confirmed_by_sms_and_gets_one_segment_reminders(world, http):
    done = await confirm_phone(world, http, world.alice, "+49 151 2345 6789")
    assert "Confirmed: `+49…89`" in done.response.content
    [code] = http.calls
    assert code.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert code.form["To"] == ALICE_PHONE and code.form["From"] == "+15005550006"
    assert http.basic_auth(code) == ("AC123", "tok")
    await create(world, name="Raid " + "x" * 95, channels="sms")
    await answer(world, world.alice, GOING)
    await world.env.advance_time(46 * MINUTE)
    [reminder] = http.calls[1:]
    assert reminder.form["To"] == ALICE_PHONE
    body = reminder.form["Body"]
    assert body.startswith("Raid xxx") and body.endswith("- Thursday 01 January 2026, 01:00 UTC (UTC)")
    assert len(body) <= 160  # one GSM-7 segment: the card link made way
    await world.env.advance_time(60 * MINUTE)
    assert len(http.calls) == 2


async def test_a_number_without_country_code_is_refused(world, http):
    res = await world.alice.slash(world.general, "me phone number", number="0151 23456789")
    world.refused(res, InvalidField, "international form")
    assert http.calls == []


async def test_a_refused_sms_fails_without_naming_the_number(world, http):
    await confirm_phone(world, http, world.alice, ALICE_PHONE)
    await create(world, channels="sms")
    await answer(world, world.alice, GOING)
    http.statuses.append(400)
    await world.env.advance_time(46 * MINUTE)
    log = (await world.admin.slash(world.general, "notifications")).response.embeds[0].description
    assert f"SMS to <@{world.alice.id}> · failed: the SMS API answered 400 (21211: The 'To' number the number" in log
    assert ALICE_PHONE not in log


# ---- webhooks


async def add_webhook(world, http, path="/hook", **options):
    res = await world.admin.slash(world.general, "settings webhooks add", url=http.url(path), **options)
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", reply(res)).group(0)
    http.secrets[path] = secret
    return res


async def test_a_webhook_receives_each_notification_signed_once_by_delivery_key(world, http):
    res = await add_webhook(world, http)
    assert "Webhook **#1** added" in reply(res) and res.ephemeral
    await create(world, channels="public broadcast")
    await world.env.advance_time(46 * MINUTE)
    [call] = http.calls
    assert call.verified is not None  # the receiver checked the signature with standardwebhooks
    start = int(START.timestamp())
    assert call.headers["webhook-id"] == f"1:{start}:pt15m:broadcast:1"
    assert call.verified["type"] == "event.reminder" and call.verified["data"]["event"]["name"] == "Raid"
    assert call.verified["data"]["event"]["starts"] == "2026-01-01T01:00:00Z"
    await world.env.advance_time(60 * MINUTE)
    assert len(http.calls) == 1


async def test_a_calendar_webhook_gets_only_that_calendars_notifications(world, http):
    await world.admin.slash(world.general, "calendar create", name="Raids")
    await world.admin.slash(world.general, "calendar create", name="Feasts")
    await add_webhook(world, http, "/raids", calendar="Raids")
    await create(world, channels="broadcast", calendar="Raids")
    await create(world, name="Feast", channels="broadcast", calendar="Feasts")
    await world.env.advance_time(46 * MINUTE)
    assert [c.verified["data"]["event"]["name"] for c in http.calls] == ["Raid"]


async def test_webhooks_list_remove_and_test(world, http):
    await add_webhook(world, http, "/secret-path-token")
    listed = (await world.admin.slash(world.general, "settings webhooks list")).response.content
    assert "**#1** · `http://127.0.0.1:" in listed and "secret-path-token" not in listed and "✅ working" in listed
    tested = await world.admin.slash(world.general, "settings webhooks test", webhook=1)
    assert "answered 200: it works" in reply(tested)
    assert http.calls[-1].verified["type"] == "webhook.test"
    refused = await world.alice.slash(world.general, "settings webhooks list")
    assert "Manage Server" in refused.response.content
    removed = await world.admin.slash(world.general, "settings webhooks remove", webhook=1)
    assert "is removed" in removed.response.content
    missing = await world.admin.slash(world.general, "settings webhooks remove", webhook=1)
    world.refused(missing, NotFound, "There is no webhook `1`")


async def test_a_webhook_that_keeps_failing_is_disabled_and_the_admin_told(world, http):
    await add_webhook(world, http)
    await create(world, channels="broadcast")
    http.statuses.extend([500, 503, 500])
    await world.env.advance_time(45 * MINUTE)
    await world.env.advance_time(5 * MINUTE)  # two backoffs
    assert len(http.calls) == 3
    await world.env.advance_time(30 * MINUTE)
    assert len(http.calls) == 3  # disabled after the third: no more tries
    embeds = (await world.admin.slash(world.general, "notifications")).response.embeds
    assert embeds[0].title == "Needs attention" and "webhook #1** was disabled: failed 3 times" in embeds[0].description
    assert "webhook #1 · failed: the webhook answered 500; the webhook is now disabled" in embeds[1].description
    listed = (await world.admin.slash(world.general, "settings webhooks list")).response.content
    assert "🔕 disabled" in listed
    tested = await world.admin.slash(world.general, "settings webhooks test", webhook=1)
    assert "enabled again" in reply(tested)
    assert "✅ working" in (await world.admin.slash(world.general, "settings webhooks list")).response.content


async def test_redirects_are_not_followed(world, http):
    await add_webhook(world, http)
    http.redirect_to = "http://169.254.169.254/latest/meta-data"
    tested = await world.admin.slash(world.general, "settings webhooks test", webhook=1)
    assert "answered 302 (a redirect; calbot does not follow them)" in reply(tested)
    assert len(http.calls) == 1


# ---- personal data


async def test_addresses_and_numbers_never_appear_in_logs_cards_or_lists(world, smtp, http, caplog):
    caplog.set_level(logging.DEBUG)
    for name in QUIET_LOGGERS:  # as `python -m bot` sets them up, at any [logging] level
        caplog.set_level(logging.INFO, name)
    caplog.set_level(logging.WARNING, "mail.log")  # the test's SMTP server, not calbot
    await confirm_mail(world, smtp, world.alice, ALICE_MAIL)
    await confirm_phone(world, http, world.alice, ALICE_PHONE)
    await confirm_mail(world, smtp, world.bob, BOB_MAIL)
    await add_webhook(world, http)
    await create(world, channels="both mail sms broadcast")
    for member in (world.alice, world.bob):
        await member.slash(world.general, "event rsvp", event="Raid", status="going")
    smtp.refuse[BOB_MAIL] = f"550 5.1.1 <{BOB_MAIL}> unknown"  # a refusal that names the address
    await world.env.advance_time(46 * MINUTE)
    assert len(smtp.to(ALICE_MAIL)) == 2 and len(http.calls) == 3  # code + reminder; code, sms, webhook
    seen = [record.getMessage() for record in caplog.records]
    seen += [m.content for m in world.general.history()]
    seen += [e.description or "" for m in world.general.history() for e in m.embeds]
    seen += [f.value for m in world.general.history() for e in m.embeds for f in e.fields]
    seen += [(await world.admin.slash(world.general, "notifications")).response.embeds[-1].description]
    seen += [(await world.alice.slash(world.general, "event attendees", event="Raid")).response.embeds[0].description]
    seen += [dm.content for member in (world.alice, world.bob) for dm in member.user.dm_channel.history()]
    seen += [call.body.decode() for call in http.calls if call.path == "/hook"]
    text = "\n".join(seen)
    assert "unknown" in text  # the refusal is there, its address is not
    for secret in (ALICE_MAIL, BOB_MAIL, ALICE_PHONE, "4915123456789", "bob.b@"):
        assert secret not in text


async def test_a_refused_recipient_fails_or_waits_by_its_code(world, smtp):
    await confirm_mail(world, smtp, world.alice, ALICE_MAIL)
    await confirm_mail(world, smtp, world.bob, BOB_MAIL)
    smtp.refuse_rcpt[ALICE_MAIL] = f"550 5.1.1 <{ALICE_MAIL}>: no such user"
    smtp.refuse_rcpt[BOB_MAIL] = "452 4.2.2 mailbox full"
    await create(world, channels="mail")
    await answer(world, world.alice, GOING)
    await answer(world, world.bob, GOING)
    await world.env.advance_time(46 * MINUTE)
    log = (await world.admin.slash(world.general, "notifications")).response.embeds[0].description
    assert f"mail to <@{world.alice.id}> · failed: the mail server answered 550 5.1.1 <the address>: no such" in log
    assert f"<@{world.bob.id}>" not in log  # waiting for its retry, not finished
    del smtp.refuse_rcpt[BOB_MAIL]
    await world.env.advance_time(5 * MINUTE)  # the backoff grew while it waited
    assert len(smtp.to(BOB_MAIL)) == 2 and len(smtp.to(ALICE_MAIL)) == 1


async def test_own_channels_replace_the_events_private_ones_mail_only_when_confirmed(world, smtp):
    await confirm_mail(world, smtp, world.alice, ALICE_MAIL)
    await world.alice.slash(world.general, "me reminders", channels="mail")
    await world.bob.slash(world.general, "me reminders", channels="mail")  # no address: nothing to send to
    await create(world, channels="private")  # the event reminds by DM
    for member in (world.alice, world.bob):
        res = await member.slash(world.general, "event rsvp", event="1", status="going")
        assert res.ephemeral
    await world.env.advance_time(46 * MINUTE)
    assert len(smtp.to(ALICE_MAIL)) == 2  # the code, then the reminder
    assert world.alice.user.dm_channel.last_message is None  # her mail replaces the event's DM
    assert world.bob.user.dm_channel.last_message is None
