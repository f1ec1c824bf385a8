"""Demo community for `flask forum seed-demo`: the Lumen self-help forum.

Lumen is a fictional smart home hub plus mobile app (iOS/Android) made by the
fictional company Brightway. This module is data only: users, tags and
questions with their answers and comments, written to look like a real
customer community a few weeks after launch.

Conventions the seeder can rely on (enforced by tests/unit/test_demo_content.py):

* Every demo account logs in with ``DEMO_PASSWORD``.
* ``days_ago`` (float) is how long before "now" a question was posted.
* ``minutes_after`` is always counted from the moment the *question* was
  posted, including for comments on an answer. A comment on an answer
  therefore has a larger ``minutes_after`` than that answer, and nothing ends
  up in the future.
* Comments are a single line of inline Markdown (emphasis, `code`, links).
* ``accepted`` (at most one answer per question) and ``score_hint`` (0-25)
  are hints for the future accepted-answer and voting features; a seeder may
  ignore them.
"""
from __future__ import annotations

from typing import TypedDict


class UserSpec(TypedDict):
    username: str
    display_name: str
    email: str
    role: str  # "member", "agent", "moderator" or "admin"
    bio: str


class TagSpec(TypedDict):
    name: str
    description: str


class CommentSpec(TypedDict):
    author: str
    body: str
    minutes_after: float


class _AnswerRequired(TypedDict):
    author: str
    body: str
    minutes_after: float
    comments: list[CommentSpec]


class AnswerSpec(_AnswerRequired, total=False):
    accepted: bool
    score_hint: int


class _QuestionRequired(TypedDict):
    author: str
    title: str
    body: str
    tags: list[str]
    days_ago: float
    comments: list[CommentSpec]
    answers: list[AnswerSpec]


class QuestionSpec(_QuestionRequired, total=False):
    score_hint: int


USERS: list[UserSpec] = [
    # --- customers -------------------------------------------------------
    {
        "username": "maria_k",
        "display_name": "Maria Kowalski",
        "email": "maria@example.com",
        "role": "member",
        "bio": "New to smart home stuff. Two cats, one **very** confused hallway light.",
    },
    {
        "username": "devpatel",
        "display_name": "Dev Patel",
        "email": "dev.patel@example.org",
        "role": "member",
        "bio": (
            "Backend developer by day, home automation tinkerer by night. "
            "38 devices on one Lumen Hub Gen 2 and counting. "
            "Happy to look at your logs."
        ),
    },
    {
        "username": "jen_lo",
        "display_name": "Jenny Lo",
        "email": "jenny.lo@example.net",
        "role": "member",
        "bio": "Mum of two, mostly here because the kids found the app. iPhone user.",
    },
    {
        "username": "oscar_ruiz",
        "display_name": "Oscar Ruiz",
        "email": "oscar@example.com",
        "role": "member",
        "bio": "I manage a few rental flats and use Lumen for heating and leak sensors.",
    },
    {
        "username": "hana_k",
        "display_name": "Hana Kimura",
        "email": "hana.kimura@example.org",
        "role": "member",
        "bio": (
            "Security engineer. I read privacy policies so you don't have to. "
            "Opinions are my own."
        ),
    },
    {
        "username": "ben_abiola",
        "display_name": "Ben Abiola",
        "email": "ben.abiola@example.net",
        "role": "member",
        "bio": "Retired electrician. If it has a relay in it, I've probably opened one up.",
    },
    {
        "username": "greta_s",
        "display_name": "Greta Sundqvist",
        "email": "greta@example.com",
        "role": "member",
        "bio": "Stockholm. Android. Short answers.",
    },
    {
        "username": "liam_obrien",
        "display_name": "Liam O'Brien",
        "email": "liam.obrien@example.org",
        "role": "member",
        "bio": "Lumen Plus subscriber since the Gen 1 days.",
    },
    {
        "username": "priya_n",
        "display_name": "Priya Nair",
        "email": "priya.nair@example.net",
        "role": "member",
        "bio": (
            "I automate everything I can. Currently 27 Recipes, one of which tells "
            "me when the washing machine is done. Ask me about *Recipes*."
        ),
    },
    # --- Brightway staff ---------------------------------------------------
    {
        "username": "sam_brightway",
        "display_name": "Sam Okafor (Brightway Support)",
        "email": "sam.okafor@example.com",
        "role": "agent",
        "bio": (
            "Support specialist at Brightway, covering hub setup, Wi-Fi and accounts. "
            "I can't see your account from the forum, so never post passwords or "
            "order numbers here."
        ),
    },
    {
        "username": "rosa_brightway",
        "display_name": "Rosa Delgado (Brightway Support)",
        "email": "rosa.delgado@example.com",
        "role": "agent",
        "bio": (
            "Senior support engineer at Brightway. Firmware, integrations and billing "
            "escalations. I pass bug reports straight to the product teams."
        ),
    },
    {
        "username": "nora_l",
        "display_name": "Nora Lindqvist",
        "email": "nora.lindqvist@example.net",
        "role": "moderator",
        "bio": (
            "Volunteer community moderator and Lumen user since 2019. "
            "Please read the [community guidelines](/guidelines) before posting."
        ),
    },
    {
        "username": "admin_chris",
        "display_name": "Chris Hale",
        "email": "chris.hale@example.org",
        "role": "admin",
        "bio": "Community manager at Brightway. I keep the lights on here (pun intended).",
    },
]

DEMO_PASSWORD = "demo-password-123"

TAGS: list[TagSpec] = [
    {
        "name": "setup",
        "description": "Unboxing, first-time setup and resetting the Lumen Hub.",
    },
    {
        "name": "wifi",
        "description": "Connecting the hub to Wi-Fi, routers, mesh networks and dropouts.",
    },
    {
        "name": "firmware",
        "description": "Hub and device firmware updates, release notes and the beta channel.",
    },
    {
        "name": "mobile-app",
        "description": "The Lumen app for iOS and Android: crashes, widgets, notifications.",
    },
    {
        "name": "automations",
        "description": "Schedules, scenes, sunrise/sunset triggers and automation rules.",
    },
    {
        "name": "billing",
        "description": "Lumen Plus subscriptions, trials, invoices, refunds and payment methods.",
    },
    {
        "name": "integrations",
        "description": "Voice assistants, Apple Home, local API and other third-party services.",
    },
    {
        "name": "recipes",
        "description": "Building, sharing and debugging Recipes, Lumen's if-this-then-that rules.",
    },
    {
        "name": "devices",
        "description": "Lumen bulbs, plugs, motion, door/window and leak sensors.",
    },
    {
        "name": "account",
        "description": "Signing in, passwords, two-factor authentication and household members.",
    },
    {
        "name": "privacy",
        "description": "What data Lumen collects, data export and account deletion.",
    },
    {
        "name": "outage",
        "description": "Service disruptions affecting the Lumen cloud, app or remote access.",
    },
]

QUESTIONS: list[QuestionSpec] = [
    # 1 -------------------------------------------------------------------
    {
        "author": "maria_k",
        "title": "Hub stuck on pulsing blue during setup, app says \"Can't find your hub\"",
        "body": """Hi all, first smart home thing I've ever bought so please be gentle.

I plugged in the hub, the light started pulsing blue like the quick start card says. In the app I tap **Add hub**, it searches for about a minute and then says *"Can't find your hub. Make sure it's nearby and pulsing blue."* It IS nearby and it IS pulsing blue!

What I've tried so far:

1. Unplugged the hub and plugged it back in (3 times)
2. Deleted and reinstalled the app
3. Turned Bluetooth off and on on my phone
4. Stood right next to the router with both

iPhone 13, app version 6.8.1. My internet is from the cable company, the router is the one they gave us. Any ideas? I'd really like to get this working before the weekend.""",
        "tags": ["setup", "wifi"],
        "days_ago": 41.5,
        "score_hint": 9,
        "comments": [
            {
                "author": "nora_l",
                "body": (
                    "Welcome, Maria! Which hub do you have, the round **Gen 1** or the "
                    "square **Gen 2**? It's on the sticker underneath, and it changes a "
                    "lot for Wi-Fi setup."
                ),
                "minutes_after": 30,
            },
            {
                "author": "maria_k",
                "body": "It's the round one, so Gen 1 I think. The sticker says model LH-100.",
                "minutes_after": 52,
            },
        ],
        "answers": [
            {
                "author": "ben_abiola",
                "body": """I had exactly this with my daughter's setup. Her router broadcasts the 2.4 GHz and 5 GHz networks under one name, and the phone was sitting on 5 GHz the whole time. The round hub can only see 2.4 GHz, so the app never found it on the network.

Check your router's app or admin page for something like "split bands" or "separate 2.4 GHz network", give the 2.4 one its own name, connect your phone to *that* one and run setup again.""",
                "minutes_after": 95,
                "score_hint": 6,
                "comments": [],
            },
            {
                "author": "sam_brightway",
                "body": """Thanks for the detail, Maria, and thanks Ben, that's the right track.

The **Gen 1 hub (LH-100) only supports 2.4 GHz Wi-Fi** and does not support WPA3-only networks. Most cable company routers combine both bands under one name, which is what trips up setup. Here's what to do:

1. Open your router's admin page or app and look for *Band steering*, *Smart Connect* or *Separate bands*.
2. Either turn band steering off, or create a separate 2.4 GHz network (e.g. `HomeWifi-2G`).
3. Make sure security is set to **WPA2** or **WPA2/WPA3 mixed**, not WPA3 only.
4. Connect your iPhone to the 2.4 GHz network.
5. Unplug the hub for 10 seconds, plug it back in, wait for pulsing blue, then tap **Add hub** again.

Once the hub is set up you can move your phone back to whatever network you like; the app talks to the hub through the cloud or your local network either way.

If it still fails, tap **Help > Send diagnostics** on the error screen and post the code it shows (it looks like `DX-XXXX-XX`), and I'll take a look.""",
                "minutes_after": 140,
                "accepted": True,
                "score_hint": 14,
                "comments": [
                    {
                        "author": "maria_k",
                        "body": (
                            "That was it! I turned on the separate 2.4 GHz network in the "
                            "router app and the hub went green in about a minute. Thank you both."
                        ),
                        "minutes_after": 310,
                    },
                ],
            },
            {
                "author": "greta_s",
                "body": "Mesh systems: look for \"IoT network\" or \"compatibility mode\". Same fix, different name.",
                "minutes_after": 600,
                "comments": [],
            },
        ],
    },
    # 2 -------------------------------------------------------------------
    {
        "author": "devpatel",
        "title": "Firmware 4.3.0 update failed with E-301, hub now boots to amber light",
        "body": """Hub Gen 2, was on 4.2.8. Started the 4.3.0 update from the app last night; this morning the hub is on a solid amber light and the app shows every device as offline.

I hooked up the USB serial console (yes, I know) and this is the end of the OTA log:

```
03:12:41 ota: downloading lumen-hub-g2-4.3.0.bin (18.4 MB)
03:14:02 ota: download complete, sha256 ok
03:14:03 ota: writing slot B
03:15:37 ota: verify slot B ... FAILED (E-301 signature mismatch at block 2211)
03:15:37 ota: marking slot B bad, rolling back to slot A
03:15:39 boot: slot A fw=4.2.8
03:15:52 net: wlan0 assoc failed (reason 15, 4-way handshake timeout)
03:16:52 cloud: connect timeout (E-102), retrying in 60s
```

So the rollback worked, but the hub no longer joins my Wi-Fi. Nothing changed on the router. Power cycling doesn't help. I'd rather not factory reset and re-pair 38 devices if I can avoid it. Is there a way to re-send Wi-Fi credentials without a full reset?""",
        "tags": ["firmware", "wifi"],
        "days_ago": 33.2,
        "score_hint": 16,
        "comments": [
            {
                "author": "ben_abiola",
                "body": (
                    "Did yours come back on its own? Mine is still on 4.2.8 and now I'm "
                    "scared to press update."
                ),
                "minutes_after": 25,
            },
            {
                "author": "devpatel",
                "body": (
                    "Nope, still amber after an hour. I'd hold off until someone from "
                    "Brightway chimes in."
                ),
                "minutes_after": 40,
            },
        ],
        "answers": [
            {
                "author": "rosa_brightway",
                "body": """Thanks for the log, Dev, that made this much quicker to identify.

This is a known issue with the **4.3.0** rollout: on a small number of Gen 2 hubs the verify step fails, and the rollback restores the old firmware but not the stored Wi-Fi credentials. We paused 4.3.0 this morning and replaced it with **4.3.1**, which fixes the verify step.

You **don't** need a factory reset. Your devices and automations are stored separately and will survive this:

1. Press and hold the button on the back of the hub for **10 seconds** until the light flashes white. This is recovery mode, not a reset.
2. In the app go to **Settings > Hubs > (your hub) > Reconnect hub**.
3. Keep your phone within a couple of metres of the hub while it sends the Wi-Fi details over Bluetooth.
4. Once the hub is green it will offer 4.3.1. Install it and leave the hub plugged in until the light is green again (around 10 minutes).

Ben, and anyone else still on 4.2.8: you'll be offered 4.3.1 directly, so it's safe to update.""",
                "minutes_after": 70,
                "accepted": True,
                "score_hint": 18,
                "comments": [
                    {
                        "author": "devpatel",
                        "body": (
                            "Recovery mode did it. On 4.3.1 now and all 38 devices are still "
                            "paired. Diagnostics code was `DX-7Q4M-2C` in case the firmware "
                            "team wants it."
                        ),
                        "minutes_after": 115,
                    },
                    {
                        "author": "rosa_brightway",
                        "body": "Got it, thanks Dev, it's attached to the bug now.",
                        "minutes_after": 130,
                    },
                ],
            },
            {
                "author": "greta_s",
                "body": """Recovery mode worked for me too, but I had to do it twice. The first time the app timed out at "Sending Wi-Fi details". Second time I turned off my phone's Wi-Fi assist / adaptive connectivity and kept the phone right next to the hub. Worked.""",
                "minutes_after": 180,
                "score_hint": 4,
                "comments": [],
            },
        ],
    },
    # 3 -------------------------------------------------------------------
    {
        "author": "liam_obrien",
        "title": "Charged TWICE for Lumen Plus this month - absolutely unacceptable",
        "body": """I've just checked my bank statement and Brightway has taken **two** payments of $4.99 for Lumen Plus on the same day. Two separate charges, same description, three minutes apart.

This is ridiculous. I've been a paying customer since the Gen 1 hub and there is NO phone number anywhere, the "contact us" form just loops me back to help articles, and the chat bot keeps asking me if I've tried restarting my hub. My hub is fine. My bank account is not.

I want the duplicate charge refunded and I want someone to explain how this happened. If I don't hear back I'm disputing it with my bank and cancelling.""",
        "tags": ["billing"],
        "days_ago": 6.4,
        "score_hint": 5,
        "comments": [
            {
                "author": "nora_l",
                "body": (
                    "Hi Liam, I've flagged this for the Brightway billing team. I also "
                    "removed the order number from your post; staff can look it up from "
                    "your account, so please keep those out of public threads."
                ),
                "minutes_after": 18,
            },
        ],
        "answers": [
            {
                "author": "oscar_ruiz",
                "body": """Not defending them, but check you don't have two subscriptions running. I ended up with one through the App Store (started from the app) and one on the Brightway website (started when I logged in on the laptop) and got billed by both.

On iPhone: **Settings > your name > Subscriptions**. On the web: **Account > Billing**. If Lumen Plus shows up in both places, that's your double charge.""",
                "minutes_after": 44,
                "score_hint": 7,
                "comments": [],
            },
            {
                "author": "rosa_brightway",
                "body": """Hi Liam, I'm sorry about this. Finding two charges is frustrating, and having to hunt for a way to reach us makes it worse. I'll explain what happened and what I've done.

I looked up your account using the email you registered with. Your renewal on the 3rd was submitted twice because our payment provider timed out and retried. The first attempt had actually gone through. This affected a small number of renewals that morning, and it's a problem on our side, not anything you did.

What I've done:

- **Refunded the duplicate $4.99** to the card on file. You'll get a confirmation email shortly, and banks usually show the refund within 3 to 5 business days.
- Checked that you only have **one** active Lumen Plus subscription, so it won't happen again next month.
- Added a note to your account so that if anything else goes wrong with billing, whoever picks it up can see the history.

Oscar's suggestion is a good general check (App Store and web subscriptions can overlap), but it wasn't the cause here.

On contacting us: the chat bot should hand you to a person if you type **"billing agent"**. I've passed your feedback about the contact form on to the team, because it shouldn't take a public post to get this fixed.""",
                "minutes_after": 96,
                "accepted": True,
                "score_hint": 11,
                "comments": [
                    {
                        "author": "liam_obrien",
                        "body": (
                            "Fine. The refund shows as pending on my card. It still shouldn't "
                            "have happened, and I shouldn't have had to post publicly to get a reply."
                        ),
                        "minutes_after": 150,
                    },
                    {
                        "author": "rosa_brightway",
                        "body": (
                            "That's fair, and I've passed it on. If the refund hasn't cleared "
                            "in 5 business days, reply here and I'll chase it personally."
                        ),
                        "minutes_after": 171,
                    },
                ],
            },
        ],
    },
    # 4 -------------------------------------------------------------------
    {
        "author": "jen_lo",
        "title": "Hub offline since this morning?",
        "body": """Since about 7am every device in the app says **Hub offline**. The hub itself has a solid green light. I've restarted the hub twice and the router once. Is it just me?""",
        "tags": ["outage", "mobile-app"],
        "days_ago": 0.4,
        "score_hint": 22,
        "comments": [
            {
                "author": "greta_s",
                "body": "Same here. Stockholm, green light, app says offline since ~13:00 CET.",
                "minutes_after": 12,
            },
            {
                "author": "maria_k",
                "body": "Same here, I thought I'd broken something again!",
                "minutes_after": 19,
            },
            {
                "author": "oscar_ruiz",
                "body": (
                    "Same at all three of my properties, so it's not your router. "
                    "Leak sensors still beep locally at least."
                ),
                "minutes_after": 27,
            },
            {
                "author": "devpatel",
                "body": (
                    "Same. Local stuff still works: schedules and motion lights run fine, "
                    "it's only the app and remote access that are down. The hub log shows "
                    "`cloud: relay handshake 503`."
                ),
                "minutes_after": 33,
            },
            {
                "author": "priya_n",
                "body": "Same problem, and my *Recipes* stopped firing around the same time.",
                "minutes_after": 41,
            },
        ],
        "answers": [
            {
                "author": "sam_brightway",
                "body": """Thanks everyone for reporting. It's not your setup.

Since around **06:40 ET** our cloud relay has been failing for some customers in North America and Europe. What that means:

- The app shows hubs as offline and you can't control devices remotely.
- **Schedules and device-to-device automations keep running**, because they run on the hub itself.
- Recipes, voice assistants and notifications are delayed or not working.

Please **don't factory reset your hub**, it won't help and you'd have to set everything up again. The engineering team is working on it, and I'll post updates in this thread as I get them.""",
                "minutes_after": 47,
                "score_hint": 15,
                "comments": [
                    {
                        "author": "sam_brightway",
                        "body": (
                            "**Update:** a fix rolled out at 10:15 ET and hubs are reconnecting. "
                            "Queued Recipe runs are being replayed, so you may see a few late "
                            "notifications. Sorry for the disruption, everyone."
                        ),
                        "minutes_after": 205,
                    },
                    {
                        "author": "jen_lo",
                        "body": "Everything's back for me. Thanks for keeping us posted.",
                        "minutes_after": 230,
                    },
                ],
            },
            {
                "author": "devpatel",
                "body": """Workaround while the cloud is down: if your phone is on the **same Wi-Fi as the hub**, pull down to refresh on the Home tab and wait for the little house icon at the top. The app falls back to local control and you can switch lights and plugs again. It won't work when you're away from home.""",
                "minutes_after": 70,
                "score_hint": 9,
                "comments": [],
            },
        ],
    },
    # 5 -------------------------------------------------------------------
    {
        "author": "priya_n",
        "title": "Sunset automation runs an hour late since the clocks changed",
        "body": """I have an automation: **30 minutes before sunset, turn on Porch light and Living room lamp**. It worked perfectly all summer. Since the clocks went back on Sunday it has been firing exactly one hour late, which rather defeats the point.

- Hub Gen 2, firmware 4.2.7
- App 6.7.4 on Android
- Home location is set correctly (the app shows the right sunset time on the automation screen!)

The fixed-time schedules (e.g. 07:00 coffee plug) are fine. Only the sunset one is off. I've tried editing and re-saving the automation.""",
        "tags": ["automations", "firmware"],
        "days_ago": 52.0,
        "score_hint": 8,
        "comments": [
            {
                "author": "ben_abiola",
                "body": (
                    "Same here with a sunrise automation for the kettle plug, exactly one "
                    "hour off since Sunday."
                ),
                "minutes_after": 40,
            },
        ],
        "answers": [
            {
                "author": "devpatel",
                "body": "Check **Settings > Hubs > Time zone**. Mine had a fixed UTC offset instead of the region name. Sunset is calculated on the hub, so if the hub thinks it's still summer time, the trigger will be an hour off even though the app displays the right time.",
                "minutes_after": 63,
                "score_hint": 5,
                "comments": [],
            },
            {
                "author": "rosa_brightway",
                "body": """Dev is right about where the problem is. This is a bug in **4.2.7**: the hub caches the UTC offset when the automation is created and doesn't refresh it on a daylight saving change. Fixed-time schedules aren't affected because they're stored in local time.

To fix it now:

1. Go to **Settings > Hubs > (your hub) > Time zone**.
2. Turn **Set automatically** off, wait a few seconds, and turn it back on.
3. The hub recalculates all sun-based triggers within a minute.

Firmware **4.2.8**, rolling out this week, refreshes the offset automatically at every DST change, so you won't need to do this in spring.""",
                "minutes_after": 210,
                "accepted": True,
                "score_hint": 9,
                "comments": [
                    {
                        "author": "priya_n",
                        "body": (
                            "Toggling *Set automatically* off and on fixed it. The porch light "
                            "came on at 16:22 today, right on time. Thank you!"
                        ),
                        "minutes_after": 260,
                    },
                ],
            },
        ],
    },
    # 6 -------------------------------------------------------------------
    {
        "author": "hana_k",
        "title": "How do I export all my data, and what exactly is in the export?",
        "body": """I'd like to get a full copy of what Brightway holds about me and my home (GDPR access request, basically). Two questions:

1. Where is the export option? I couldn't find it in the app.
2. What does the export actually contain? Specifically I want to know whether it includes raw sensor events, location history from the geofence feature, and anything about the devices on my network that *aren't* Lumen devices.""",
        "tags": ["privacy", "account"],
        "days_ago": 27.3,
        "score_hint": 12,
        "comments": [],
        "answers": [
            {
                "author": "sam_brightway",
                "body": """Good questions, Hana.

**Where:** the export is on the web account page for now, not in the app. Sign in and go to **Account > Privacy > Download my data**, then click **Request export**. We email you a download link when it's ready, usually within a few hours and at most 48 hours. The link is valid for 7 days.

**What's in it:** you get a ZIP file with:

- `profile.json`: name, email, sign-in methods, marketing and notification preferences
- `homes/<home-id>/devices.json`: every Lumen device, its name, room, model and firmware version
- `homes/<home-id>/automations.json` and `recipes.json`: your rules exactly as stored
- `homes/<home-id>/events.csv`: device events (on/off, motion, door open/close, temperature) for as long as we keep them
- `geofence.csv`: only your *arrive/leave home* events with timestamps. We don't store GPS coordinates, just the event.
- `billing.json`: subscription history and the last four digits of the card; full card numbers are never stored by us
- `support/`: any support tickets and chat transcripts

**Non-Lumen devices:** the hub doesn't scan or record other devices on your network, so there's nothing to export there. The only network detail we keep is the hub's own Wi-Fi network name and signal strength, which is in `devices.json`.

There's more detail in our [privacy overview](/search?q=privacy+is%3Aarticle).""",
                "minutes_after": 180,
                "accepted": True,
                "score_hint": 13,
                "comments": [
                    {
                        "author": "hana_k",
                        "body": (
                            "Thanks, that's thorough. Is motion history included in full for "
                            "Plus accounts, or only the last 24 hours?"
                        ),
                        "minutes_after": 240,
                    },
                    {
                        "author": "sam_brightway",
                        "body": (
                            "Everything we still hold is included, so Plus accounts get the "
                            "full 30 days in `events.csv`. Older events are already deleted "
                            "and can't be exported."
                        ),
                        "minutes_after": 265,
                    },
                ],
            },
        ],
    },
    # 7 -------------------------------------------------------------------
    {
        "author": "greta_s",
        "title": "Android app crashes on launch after updating to 6.8.2",
        "body": "Pixel 7, Android 14. App closes right after the splash screen since yesterday's update. Reinstalled, cleared cache, same thing.",
        "tags": ["mobile-app"],
        "days_ago": 18.9,
        "score_hint": 7,
        "comments": [
            {
                "author": "jen_lo",
                "body": "Same on my husband's Galaxy S22, Android 14. My iPhone is fine.",
                "minutes_after": 35,
            },
        ],
        "answers": [
            {
                "author": "rosa_brightway",
                "body": """Thanks for the reports. 6.8.2 crashes on start-up on Android if a **Lumen widget** is on the home screen (the widget loads before the app has finished migrating its settings).

- **Workaround:** long-press the Lumen widget, remove it, then open the app. You can add the widget back afterwards and it'll work.
- **Fix:** 6.8.3 is rolling out on Google Play now and fixes this, so you won't need the workaround once it reaches you.""",
                "minutes_after": 88,
                "accepted": True,
                "score_hint": 10,
                "comments": [
                    {
                        "author": "greta_s",
                        "body": "Removed the widget, app opens. Thanks.",
                        "minutes_after": 120,
                    },
                ],
            },
        ],
    },
    # 8 -------------------------------------------------------------------
    {
        "author": "oscar_ruiz",
        "title": "Can one Lumen Plus subscription cover hubs at two different addresses?",
        "body": """I manage two flats in the same building plus my own house. Each has its own Lumen Hub, mainly for leak sensors and the heating plugs. I'd like the 30-day history and the extra automations on all three.

Does one Lumen Plus subscription cover all my hubs, or do I need one per address? The pricing page only says "per home" and I'm not sure if "home" means hub, address or account.""",
        "tags": ["billing", "account"],
        "days_ago": 45.8,
        "comments": [],
        "answers": [
            {
                "author": "priya_n",
                "body": "I have two homes (ours and my mum's) under one account. You switch between them with the home switcher at the top of the Home tab. Plus only applied to the one I bought it in; my mum's home still shows the free limits.",
                "minutes_after": 120,
                "score_hint": 3,
                "comments": [],
            },
            {
                "author": "sam_brightway",
                "body": """Priya's right. In Lumen, a **home** is a group of devices with its own address and members, and a subscription is attached to one home. One home can have more than one hub (useful in large houses), and they're all covered.

So for your setup:

- **Two flats + your house = three homes**, so three Lumen Plus subscriptions if you want Plus features everywhere.
- The free tier still works fine for leak alerts. Notifications, the 24-hour history and up to 10 automations are free in every home.

If the two flats are in the same building and you don't need to keep them separate (for example, no tenant accounts), you *could* add both hubs to one home. I'd only recommend that if the tenants won't be members, because members of a home can see every device in it.""",
                "minutes_after": 200,
                "score_hint": 6,
                "comments": [
                    {
                        "author": "oscar_ruiz",
                        "body": (
                            "OK, clear. A multi-home discount would be nice, I'd happily pay "
                            "for three at a lower price."
                        ),
                        "minutes_after": 260,
                    },
                ],
            },
        ],
    },
    # 9 -------------------------------------------------------------------
    {
        "author": "ben_abiola",
        "title": "Lumen Plug clicks on and off by itself every few minutes",
        "body": """One of my three Lumen Plugs (the one with the standard lamp on it) has started switching itself on and off. Click on, a few minutes later click off, and so on, mostly in the evenings. The other two plugs are fine.

It's not a loose socket, I checked with a plug-in tester and moved it to a different outlet. Plug firmware says 1.0.14. Is this a failing relay? I've seen plenty of those in my time, but they don't usually keep to a schedule.""",
        "tags": ["devices", "automations"],
        "days_ago": 23.6,
        "comments": [],
        "answers": [
            {
                "author": "devpatel",
                "body": "Before you blame the relay: open the plug in the app and scroll to **Activity**. Each on/off event shows what caused it: *App*, *Button*, *Automation: name*, *Recipe: name* or *Voice*. If it's a rule, it'll say which one.",
                "minutes_after": 35,
                "score_hint": 8,
                "comments": [
                    {
                        "author": "ben_abiola",
                        "body": (
                            "Well, that's embarrassing. Activity says *Automation: Vacation "
                            "lights*. My wife set up random on/off for when we're away and "
                            "never switched it off. Thanks Dev."
                        ),
                        "minutes_after": 75,
                    },
                ],
            },
            {
                "author": "sam_brightway",
                "body": """Glad Dev's tip found it! For anyone who finds this thread later with the same symptom:

- If **Activity** shows an automation or Recipe, it's a rule, so edit or disable it.
- If it shows **Button** or nothing at all, update the plug firmware (**Device settings > Firmware**). **1.0.16** fixed the relay switching when a plug powers LED lamps with a high inrush current.
- If it still switches by itself on 1.0.16 with no cause logged, contact us. That's a hardware fault and it's covered by the 2-year warranty.""",
                "minutes_after": 140,
                "score_hint": 4,
                "comments": [],
            },
        ],
    },
    # 10 ------------------------------------------------------------------
    {
        "author": "maria_k",
        "title": "What does the amber light on the hub mean?",
        "body": "The hub light has been amber (kind of orange) since yesterday. Lights still work from the app when I'm at home but not when I'm at work. What does amber mean and how do I fix it?",
        "tags": ["setup", "wifi"],
        "days_ago": 39.0,
        "score_hint": 4,
        "comments": [],
        "answers": [
            {
                "author": "ben_abiola",
                "body": """From my notes (Gen 1 and Gen 2 are the same):

- **Pulsing blue**: waiting for setup
- **Solid green**: all good
- **Amber**: connected to Wi-Fi but can't reach the internet / Brightway cloud
- **Flashing white**: recovery mode
- **Blinking red**: hardware or firmware error, contact support

Amber is almost always the router. Restart the router first, then the hub.""",
                "minutes_after": 60,
                "score_hint": 7,
                "comments": [
                    {
                        "author": "maria_k",
                        "body": "Restarted the router and the hub went green. Thank you!",
                        "minutes_after": 140,
                    },
                ],
            },
            {
                "author": "sam_brightway",
                "body": "Ben's list is spot on. The full list, including the Gen 2 ring animations, is in [Hub status lights explained](/search?q=status+lights+is%3Aarticle). If amber comes back often, check whether your router has parental controls or a firewall that blocks the hub. It needs outbound access on port 443 and 8883.",
                "minutes_after": 95,
                "score_hint": 3,
                "comments": [],
            },
        ],
    },
    # 11 ------------------------------------------------------------------
    {
        "author": "devpatel",
        "title": "Is there a local API for the hub? Want sensor events without the cloud",
        "body": """I'd like to feed motion and door sensor events into my own dashboard (a small Python service on a Raspberry Pi). Right now the only route I can find is going through Recipes, so every event leaves my house, goes to the cloud, and comes back. That adds a second or more of latency and it stops during outages.

Is there any supported local API on the hub: REST, MQTT, websockets, anything? I found port 8883 open on the hub with nmap, but it wants a client certificate.""",
        "tags": ["integrations", "devices"],
        "days_ago": 57.4,
        "score_hint": 19,
        "comments": [],
        "answers": [
            {
                "author": "hana_k",
                "body": "Port 8883 is the hub's TLS connection to the Brightway broker (it's listening for the cloud relay, not for you). I'd leave it alone; the client certificate is device-specific and you'd need to extract it from the hub, which I'm fairly sure breaks the terms of service.",
                "minutes_after": 48,
                "score_hint": 6,
                "comments": [],
            },
            {
                "author": "rosa_brightway",
                "body": """No public local API yet, but there is something close to it in testing.

**Local events (Labs)** is available on hub firmware **4.2.6 or later**. It publishes device events over MQTT on your LAN, with a username and password you set yourself, and no client certificate needed:

1. In the app: **Settings > Labs > Local events**, turn it on and set a password.
2. The hub then runs a broker on port **1884** (plain) and **8884** (TLS, self-signed).
3. Topics look like `lumen/<home>/<room>/<device>/state`, with a small JSON payload.

It's read-only for now; control commands are planned. It's a Labs feature, so the topic format could still change, and it isn't covered by the usual support SLA. Feedback in this forum is very welcome though.""",
                "minutes_after": 160,
                "accepted": True,
                "score_hint": 20,
                "comments": [
                    {
                        "author": "devpatel",
                        "body": (
                            "Turned on Labs > Local events. Messages arrive ~50 ms after the "
                            "sensor trips, way better than going through the cloud. Nice work."
                        ),
                        "minutes_after": 220,
                    },
                    {
                        "author": "hana_k",
                        "body": "Good to hear it's opt-in and uses a password you set yourself. Thanks Rosa.",
                        "minutes_after": 245,
                    },
                ],
            },
            {
                "author": "priya_n",
                "body": "If you don't want to run Labs features: the **Webhook** action in Recipes can POST to any URL, including one on your LAN if you expose it. Still goes via the cloud, but it's supported and has been reliable for me.",
                "minutes_after": 400,
                "score_hint": 2,
                "comments": [],
            },
        ],
    },
    # 12 ------------------------------------------------------------------
    {
        "author": "jen_lo",
        "title": "Kids keep turning off the hallway light schedule - can I lock it?",
        "body": """My kids (9 and 12) both have the Lumen app on their tablets so they can turn their bedroom lights on and off. Problem: they've discovered the **Schedules** tab and keep disabling the hallway night light schedule "because it's annoying". Then nobody can see anything at 2am.

Is there a way to let them control their own lights but not touch schedules? We're on Lumen Plus if that matters.""",
        "tags": ["automations", "account"],
        "days_ago": 14.2,
        "score_hint": 10,
        "comments": [],
        "answers": [
            {
                "author": "sam_brightway",
                "body": """Yes, this is exactly what member roles are for. With Lumen Plus you can limit what each member sees:

1. **Settings > Home > Members**, and tap each child.
2. Change the role from **Admin** to **Member**. Members can't edit or disable automations and schedules.
3. Under **Device access**, choose *Selected devices only* and tick their bedroom lights.

They'll only see the devices you've ticked, and the Schedules tab becomes read-only for them. The change takes effect next time they open the app.""",
                "minutes_after": 75,
                "accepted": True,
                "score_hint": 6,
                "comments": [
                    {
                        "author": "jen_lo",
                        "body": (
                            "Perfect, both set to Member with only their own lamps. "
                            "Peace restored (for now)."
                        ),
                        "minutes_after": 102,
                    },
                ],
            },
        ],
    },
    # 13 ------------------------------------------------------------------
    {
        "author": "hana_k",
        "title": "Which data does the motion sensor send to Brightway's cloud?",
        "body": """Considering putting a Lumen Motion Sensor in the bedroom for a night-light automation, but I'm wary of a cloud service knowing when I get up at night.

What exactly leaves the hub when the sensor triggers? Is it just "motion detected" or is there more (light level, temperature, battery)? And can I keep the automation but stop the events going to the cloud?""",
        "tags": ["privacy", "devices"],
        "days_ago": 9.7,
        "score_hint": 14,
        "comments": [],
        "answers": [
            {
                "author": "devpatel",
                "body": "I looked at this from the network side: with cloud history on, my hub sends a small TLS message to the broker on every motion start/stop, plus a periodic status update about every 15 minutes. I can't see inside the TLS, obviously, but the timing lines up with events. With history off, the per-event traffic stops and only the status update is left.",
                "minutes_after": 90,
                "score_hint": 8,
                "comments": [],
            },
            {
                "author": "rosa_brightway",
                "body": """Dev's observation matches how it works. In detail:

- **Per event** (with cloud history on): device ID, event type (`motion_start` / `motion_stop`), timestamp. Light level is attached if the sensor reports it.
- **Every ~15 minutes**: battery %, temperature, signal strength and firmware version, for all devices. This is used for low-battery alerts and remote status.
- **Retention**: 24 hours on the free plan, 30 days with Lumen Plus.

To keep the automation but stop per-event uploads, open **Settings > Privacy > Cloud history** and turn it off for that device (or for the whole home). Motion-to-light automations run **on the hub**, so they keep working. You lose the event timeline in the app, and Recipes can't use that sensor as a trigger.""",
                "minutes_after": 240,
                "score_hint": 12,
                "comments": [
                    {
                        "author": "hana_k",
                        "body": (
                            "Appreciate the detail. Cloud history off for the bedroom sensor "
                            "only is a good compromise for me."
                        ),
                        "minutes_after": 300,
                    },
                ],
            },
        ],
    },
    # 14 ------------------------------------------------------------------
    {
        "author": "liam_obrien",
        "title": "Can't log in - \"Too many attempts, try again later\"",
        "body": "Got logged out of the app for no reason, now it says \"Too many attempts, try again later\" every time. My password is definitely right. How long is \"later\"?",
        "tags": ["account"],
        "days_ago": 3.1,
        "comments": [],
        "answers": [
            {
                "author": "sam_brightway",
                "body": """"Later" is **15 minutes** after the last failed attempt, and each new attempt restarts the timer, so give it a full 15 minutes without trying.

Before trying again, check how you created the account. If you originally signed up with **Sign in with Apple** or **Google**, there's no Lumen password, so typing one will always fail. Use the Apple/Google button instead. If you did use a password, tap **Forgot password?** and the reset link will also clear the lockout.""",
                "minutes_after": 22,
                "accepted": True,
                "score_hint": 3,
                "comments": [
                    {
                        "author": "liam_obrien",
                        "body": "It was the Apple thing. Never set a password in the first place. Fine, I'm in.",
                        "minutes_after": 50,
                    },
                ],
            },
        ],
    },
    # 15 ------------------------------------------------------------------
    {
        "author": "priya_n",
        "title": "Recipe to flash the lights when the washing machine finishes?",
        "body": """Our washing machine is in the basement and nobody ever hears it finish, so wet laundry sits there for hours. It's plugged into a Lumen Plug, which reports power usage.

What I want: when the washer **drops below ~5 W and stays there for a few minutes**, flash the kitchen lights blue and send a notification. The problem is that it also dips to low power between cycles, so a simple "power below 5 W" trigger fires in the middle of the wash.

Has anyone built something like this? Happy to use Recipes or a normal automation, whichever works.""",
        "tags": ["recipes", "automations", "devices"],
        "days_ago": 30.5,
        "score_hint": 11,
        "comments": [],
        "answers": [
            {
                "author": "devpatel",
                "body": """I have exactly this. The trick is the **for_minutes** option on the power trigger plus a condition that the washer was actually running recently. Here's my Recipe. You can paste it into **Recipes > New > Import from text** and then change the device names:

```json
{
  "name": "Washer done -> flash kitchen lights",
  "trigger": {
    "type": "device.power_below",
    "device": "Plug - Laundry",
    "watts": 5,
    "for_minutes": 4
  },
  "conditions": [
    {
      "type": "device.power_was_above",
      "device": "Plug - Laundry",
      "watts": 50,
      "within_minutes": 90
    }
  ],
  "actions": [
    {"type": "light.flash", "devices": ["Kitchen pendant 1", "Kitchen pendant 2"], "times": 3, "color": "#2E86FF"},
    {"type": "notify", "message": "Washer's done, go get the laundry!"}
  ]
}
```

The 4 minutes covers the pauses between cycles on my machine. If yours pauses longer during soaking, raise it.""",
                "minutes_after": 130,
                "score_hint": 17,
                "comments": [
                    {
                        "author": "priya_n",
                        "body": (
                            "Imported it, renamed the devices, works a treat. The lights went "
                            "blue three times and the kids actually noticed the laundry was done."
                        ),
                        "minutes_after": 215,
                    },
                ],
            },
            {
                "author": "ben_abiola",
                "body": "One thing to watch: some front loaders draw 1-3 W on standby with the display on, and a few drop to 0 W during a long soak. Look at the plug's power graph for a full wash before you settle on the threshold and timing.",
                "minutes_after": 190,
                "score_hint": 5,
                "comments": [],
            },
            {
                "author": "rosa_brightway",
                "body": "Nice Recipe, Dev. Note for anyone copying it: `for_minutes` on power triggers needs plug firmware **1.0.16** or later. On older firmware the Recipe imports fine but the trigger fires immediately. You can check under **Device settings > Firmware**.",
                "minutes_after": 300,
                "score_hint": 6,
                "comments": [],
            },
        ],
    },
    # 16 ------------------------------------------------------------------
    {
        "author": "greta_s",
        "title": "4 of 9 bulbs \"Not responding\" after replacing my router",
        "body": "New router. Changed the hub's Wi-Fi in the app, hub is green. But 4 of my 9 bulbs say *Not responding*. Power cycled them. Same 4 every time.",
        "tags": ["wifi", "devices"],
        "days_ago": 11.3,
        "comments": [],
        "answers": [
            {
                "author": "ben_abiola",
                "body": "The bulbs don't use your Wi-Fi at all; they talk to the hub over Zigbee. But Zigbee and 2.4 GHz Wi-Fi share the same airwaves, so a new router on a busy channel can drown out the bulbs furthest from the hub. Check which channel the new router picked.",
                "minutes_after": 55,
                "score_hint": 6,
                "comments": [],
            },
            {
                "author": "sam_brightway",
                "body": """Ben's explanation is right. Two ways to fix it:

1. **Move the router**: set its 2.4 GHz channel to **1** or **6** instead of *Auto*. Channel 11 and above overlap the hub's default Zigbee channel (25).
2. **Move the hub**: **Settings > Hubs > (your hub) > Advanced > Zigbee channel > Auto**. The hub scans for a quiet channel and moves all devices with it. It takes about 2 minutes, and don't switch bulbs off at the wall during that time.

Bulbs that are still *Not responding* after 10 minutes can be re-joined without losing their automations: switch them off and on at the wall 5 times and they'll blink and reconnect.""",
                "minutes_after": 120,
                "accepted": True,
                "score_hint": 9,
                "comments": [
                    {
                        "author": "greta_s",
                        "body": "Router had picked channel 11 by itself. Set it to 1, all 9 bulbs back.",
                        "minutes_after": 185,
                    },
                ],
            },
        ],
    },
    # 17 ------------------------------------------------------------------
    {
        "author": "oscar_ruiz",
        "title": "Invoice with company VAT number for Lumen Plus?",
        "body": "I pay for Lumen Plus through my company for one of the rental flats. The receipt email doesn't show our company name or VAT number, and my accountant needs both. Where can I add them?",
        "tags": ["billing"],
        "days_ago": 16.8,
        "comments": [],
        "answers": [
            {
                "author": "rosa_brightway",
                "body": """That depends on where the subscription was bought:

- **Bought on the Brightway website:** sign in and go to **Account > Billing > Invoice details**. Add the company name, address and VAT number, then use **Download invoice** next to each payment. Past invoices are regenerated with the new details too.
- **Bought through the App Store or Google Play:** the store is the seller in that case, so we can't issue a VAT invoice. The receipt comes from Apple or Google. If you need proper invoices, cancel the store subscription at the end of the period and subscribe on the web instead. Your history and settings stay the same.""",
                "minutes_after": 300,
                "score_hint": 5,
                "comments": [
                    {
                        "author": "oscar_ruiz",
                        "body": "Found it, thanks. This one was bought on the web, so the invoice download worked.",
                        "minutes_after": 420,
                    },
                ],
            },
        ],
    },
    # 18 ------------------------------------------------------------------
    {
        "author": "maria_k",
        "title": "Voice assistant says \"device is unresponsive\" but the app works fine",
        "body": """When I ask my smart speaker to turn on the living room lamp it says *"Living room lamp is not responding"*. But in the Lumen app the lamp turns on and off instantly. Same problem with the bedroom lamp. The kitchen lights work fine by voice.

I haven't changed anything in the voice assistant app. I did install the hub update (4.3.1) last week, if that matters.""",
        "tags": ["integrations", "devices"],
        "days_ago": 21.4,
        "score_hint": 6,
        "comments": [],
        "answers": [
            {
                "author": "jen_lo",
                "body": "I had this after moving house. Unlinking the Lumen skill in the voice assistant app and linking it again fixed it for me, but you have to redo your rooms and groups afterwards.",
                "minutes_after": 40,
                "score_hint": 2,
                "comments": [],
            },
            {
                "author": "greta_s",
                "body": "Did you rename the lamps? Emoji or special characters in names break voice control.",
                "minutes_after": 55,
                "score_hint": 3,
                "comments": [],
            },
            {
                "author": "sam_brightway",
                "body": """Greta's on the right lines. When you rename a device in Lumen, the voice assistant keeps the old name until it re-discovers your devices. Firmware 4.3.1 also changed the internal device IDs for lamps set up with a *Lamp* icon, which has the same effect.

Try this before unlinking anything:

1. Say **"discover devices"** to your speaker (or tap *Add device > Discover* in its app).
2. Wait for it to finish; it should find your lamps as new devices.
3. Delete the old entries marked *offline*, and put the new ones back in their rooms and groups.

Unlinking and relinking the skill (Jenny's suggestion) also works, but it's more work because you have to rebuild every room.""",
                "minutes_after": 150,
                "score_hint": 8,
                "comments": [
                    {
                        "author": "maria_k",
                        "body": (
                            "Asked it to discover devices and everything responds again. I did "
                            "rename both lamps last week, so that makes sense."
                        ),
                        "minutes_after": 200,
                    },
                ],
            },
            {
                "author": "devpatel",
                "body": "Tip for the future: put the room in the device name (\"Living room lamp\" rather than \"Lamp\"). Assistants handle duplicate names badly, and re-discovery gets messy when three devices are all called \"Lamp\".",
                "minutes_after": 210,
                "score_hint": 4,
                "comments": [],
            },
        ],
    },
    # 19 ------------------------------------------------------------------
    {
        "author": "devpatel",
        "title": "Feature request: expose sensor battery level in Recipes",
        "body": """Recipes can trigger on almost every sensor value **except** battery level. I'd like to do things like "if any sensor battery drops below 20%, add a task to my to-do app" or "turn the hallway light red for 5 seconds".

The app clearly has the value (it's on the device page), so can it be made available as a Recipe trigger and as an `{{ingredient}}`?""",
        "tags": ["recipes", "devices"],
        "days_ago": 48.6,
        "score_hint": 13,
        "comments": [
            {
                "author": "priya_n",
                "body": "+1, I'd use this to turn the porch light red when the door sensor battery is low.",
                "minutes_after": 60,
            },
            {
                "author": "ben_abiola",
                "body": (
                    "Yes please. I only found out my leak sensor was dead when I tested it "
                    "with a wet finger."
                ),
                "minutes_after": 95,
            },
        ],
        "answers": [
            {
                "author": "rosa_brightway",
                "body": """Thanks Dev, I've passed this on to the Recipes team with a link to this thread, so the +1s here count.

I can't share a timeline, but in the meantime there's a partial workaround: the **Device > Low battery** trigger already exists in Recipes. It fires once when a device reaches **15%** and has a `{{device_name}}` ingredient, so you can send it to a to-do app or flash a light. The threshold isn't configurable yet, and that's part of what I've asked for.""",
                "minutes_after": 300,
                "score_hint": 7,
                "comments": [],
            },
        ],
    },
    # 20 ------------------------------------------------------------------
    {
        "author": "ben_abiola",
        "title": "Lumen Bulb flickers when dimmed below 20%",
        "body": """Two Lumen A19 colour bulbs in the lounge. Above ~20% brightness they're perfect, but below that they flicker visibly. It's worst at 5-10%, which of course is the "film night" setting.

Bulb firmware 2.1.2. Warm white, not colour mode. I've swapped them between fittings and it follows the bulbs, not the fittings.""",
        "tags": ["devices", "firmware"],
        "days_ago": 35.9,
        "comments": [],
        "answers": [
            {
                "author": "greta_s",
                "body": "Are they on a wall dimmer? Smart bulbs need a plain switch that stays on.",
                "minutes_after": 30,
                "comments": [
                    {
                        "author": "ben_abiola",
                        "body": "No dimmer, plain switch that stays on. Good thought though.",
                        "minutes_after": 45,
                    },
                ],
            },
            {
                "author": "sam_brightway",
                "body": """Thanks for testing it in different fittings, Ben, that helps. Bulb firmware **2.1.4** changed the dimming curve for the A19 bulbs specifically because of flicker at low brightness on 2.1.2.

1. Open each bulb, go to **Device settings > Firmware** and install 2.1.4 (bulbs update one at a time, about 5 minutes each).
2. Afterwards, go to **Device settings > Minimum brightness** and set it to **5%**. This maps the slider's 1% to a level the bulb can hold steadily.

If a bulb still flickers on 2.1.4, let us know and we'll replace it under warranty.""",
                "minutes_after": 110,
                "accepted": True,
                "score_hint": 10,
                "comments": [
                    {
                        "author": "ben_abiola",
                        "body": (
                            "Updated both to 2.1.4 and set the minimum to 5%. No flicker even "
                            "at 1%. Film night is saved, thank you."
                        ),
                        "minutes_after": 400,
                    },
                ],
            },
        ],
    },
    # 21 ------------------------------------------------------------------
    {
        "author": "jen_lo",
        "title": "Charged $49 after cancelling my Lumen Plus free trial?",
        "body": """I started the 14-day Lumen Plus trial from the app, decided it wasn't for us, and cancelled it on day 14. Today I got charged $49 for a year.

Can I get that back? I really did cancel, I have the confirmation screen in my photos.""",
        "tags": ["billing"],
        "days_ago": 8.2,
        "score_hint": 4,
        "comments": [],
        "answers": [
            {
                "author": "oscar_ruiz",
                "body": "If you started the trial in the iPhone app, it's an App Store subscription, and Apple needs you to cancel at least 24 hours before the trial ends. Cancelling on day 14 is usually too late. Annoying, but it's Apple's rule, not Brightway's.",
                "minutes_after": 65,
                "score_hint": 3,
                "comments": [],
            },
            {
                "author": "rosa_brightway",
                "body": """Oscar's explanation is right about the timing. The cancellation went through, but after the renewal had already been scheduled. You can still get the money back:

- **Trial started in the iPhone app:** Apple handles the payment, so the refund has to be requested from Apple. Open the receipt email from Apple, tap **Report a problem**, choose *I didn't mean to buy this*, and mention that you cancelled the trial. These are usually approved within 48 hours.
- **Trial started on the web:** reply here and I'll refund it directly. We give a full refund on any annual plan within 14 days of the charge.

Your Plus features will stay on until the refund is processed, and then the home goes back to the free plan. You won't lose any devices or automations, but only the first 10 automations stay enabled.""",
                "minutes_after": 130,
                "accepted": True,
                "score_hint": 8,
                "comments": [
                    {
                        "author": "jen_lo",
                        "body": "Requested it through Apple with exactly that wording, approved the next morning. Thanks Rosa.",
                        "minutes_after": 1300,
                    },
                ],
            },
        ],
    },
    # 22 ------------------------------------------------------------------
    {
        "author": "hana_k",
        "title": "Two-factor authentication option missing from the app",
        "body": "The help centre says Lumen supports two-factor authentication, but I can't find it anywhere in **Settings > Account** on iOS (app 6.8.1). Has it been removed, or am I looking in the wrong place?",
        "tags": ["account", "privacy"],
        "days_ago": 25.0,
        "comments": [],
        "answers": [
            {
                "author": "sam_brightway",
                "body": """You're not missing anything. 2FA can currently only be turned on from the **web account page**: sign in, go to **Account > Security > Two-factor authentication**, and scan the QR code with any authenticator app. Save the recovery codes somewhere safe.

Once it's on, the app will ask for the 6-digit code at sign-in as expected. Setting it up in the app is planned for version 6.9.

Note: accounts that use *Sign in with Apple/Google* rely on that provider's 2FA, so the option won't show for those.""",
                "minutes_after": 95,
                "score_hint": 7,
                "comments": [
                    {
                        "author": "hana_k",
                        "body": (
                            "Done via the web page, thanks. It would help if the app at least "
                            "linked to it from **Settings > Account**."
                        ),
                        "minutes_after": 140,
                    },
                ],
            },
        ],
    },
    # 23 ------------------------------------------------------------------
    {
        "author": "priya_n",
        "title": "Which automations still run when the internet is down?",
        "body": """After the storm knocked our internet out last weekend I realised I don't actually know what keeps working when our internet drops (which happens a lot in storms here). The night lights and the heating schedule are the ones that matter.

Is there a list somewhere of what runs on the hub and what needs the cloud?""",
        "tags": ["automations", "wifi", "outage"],
        "days_ago": 5.5,
        "score_hint": 17,
        "comments": [],
        "answers": [
            {
                "author": "devpatel",
                "body": """From testing with the router unplugged (hub firmware 4.3.1):

| Trigger / action | Works without internet? |
|---|---|
| Fixed-time schedules | Yes |
| Sunrise / sunset triggers | Yes, the hub calculates them itself |
| Device triggers (motion, door, button) on the same hub | Yes |
| Scenes started from a Lumen button or wall switch | Yes |
| Weather, geofence ("arriving home") triggers | No |
| Recipes and voice assistants | No |
| Phone notifications | No, they're queued and some arrive late |

The app also works in local mode if your phone is on the home Wi-Fi.""",
                "minutes_after": 50,
                "score_hint": 21,
                "comments": [
                    {
                        "author": "priya_n",
                        "body": "This table should be an official article, honestly.",
                        "minutes_after": 80,
                    },
                    {
                        "author": "admin_chris",
                        "body": (
                            "Agreed, Priya. The docs team is turning it into an article. "
                            "Thanks Dev for the write-up!"
                        ),
                        "minutes_after": 300,
                    },
                ],
            },
            {
                "author": "rosa_brightway",
                "body": """Dev's table matches what the firmware team has confirmed. One addition: **automations created or edited while offline** are saved on the hub but won't show in the app on other phones until the connection is back.

For the heating schedule and night lights specifically: if they're fixed-time or sunset schedules on a hub with firmware **4.2.8 or later**, they'll run during an internet outage. A power cut is different. The hub keeps its schedules, but it needs power, so a small UPS is worth it if your power drops too.""",
                "minutes_after": 140,
                "accepted": True,
                "score_hint": 9,
                "comments": [],
            },
            {
                "author": "ben_abiola",
                "body": "On the UPS point: the hub draws under 3 W, so even the smallest UPS will run it (and the router, which you'll want too) for hours. Plug the hub into the battery-backed outlets, not the surge-only ones.",
                "minutes_after": 260,
                "score_hint": 4,
                "comments": [],
            },
        ],
    },
    # 24 (unanswered) -----------------------------------------------------
    {
        "author": "greta_s",
        "title": "Motion sensor triggers when nobody is home",
        "body": "Lumen Motion Sensor in the living room turns the lights on 3-4 times a day while we're at work. No pets. Sensor firmware 1.3.0, sensitivity on *Medium*. Camera shows an empty room.",
        "tags": ["devices", "automations"],
        "days_ago": 2.6,
        "comments": [
            {
                "author": "ben_abiola",
                "body": (
                    "Is it facing a window or a radiator? PIR sensors see a sudden patch of "
                    "warm air or sunlight as movement."
                ),
                "minutes_after": 180,
            },
            {
                "author": "greta_s",
                "body": "Facing a window, yes. Moving it tonight. Will report back.",
                "minutes_after": 240,
            },
        ],
        "answers": [],
    },
    # 25 (unanswered) -----------------------------------------------------
    {
        "author": "oscar_ruiz",
        "title": "Does the Gen 2 hub work with Thread devices from other brands?",
        "body": "The Gen 2 box says \"Thread border router\". Does that mean I can pair other brands' Thread sensors and smart locks directly to the Lumen Hub and use them in automations? Or is it only for future Lumen devices? I'd rather not buy a lock that turns out to be incompatible.",
        "tags": ["integrations", "devices"],
        "days_ago": 1.3,
        "score_hint": 3,
        "comments": [],
        "answers": [],
    },
    # 26 (unanswered) -----------------------------------------------------
    {
        "author": "maria_k",
        "title": "iPhone lock screen widget shows an old temperature",
        "body": "The Lumen widget on my lock screen shows the living room temperature, but it's often hours old (it said 19.5° this morning when the app said 21°). Is there a way to make it update more often?",
        "tags": ["mobile-app"],
        "days_ago": 0.9,
        "comments": [
            {
                "author": "jen_lo",
                "body": "Mine does this too. Opening the app refreshes it, but that sort of defeats the point of a widget.",
                "minutes_after": 90,
            },
        ],
        "answers": [],
    },
    # 27 (unanswered) -----------------------------------------------------
    {
        "author": "liam_obrien",
        "title": "Why does the app want location access \"Always\"?",
        "body": "After the latest update the app keeps nagging me to allow location **Always** instead of *While using*. I don't use the arriving-home stuff. What does it need it for, and will anything break if I say no?",
        "tags": ["privacy", "mobile-app"],
        "days_ago": 0.2,
        "comments": [],
        "answers": [],
    },
    # 28 ------------------------------------------------------------------
    {
        "author": "ben_abiola",
        "title": "Firmware update stuck at 87% for over an hour",
        "body": "Gen 1 hub, updating 4.2.8 to 4.3.1. The app progress bar has been sitting at 87% for 70 minutes and the hub light is pulsing white. Do I pull the plug or wait?",
        "tags": ["firmware"],
        "days_ago": 12.9,
        "comments": [],
        "answers": [
            {
                "author": "devpatel",
                "body": "Wait. My Gen 1 sat at 87% for well over an hour too. That's the step where it updates the Zigbee radio, and the progress bar doesn't move during it.",
                "minutes_after": 25,
                "score_hint": 4,
                "comments": [],
            },
            {
                "author": "sam_brightway",
                "body": """Dev's right, **don't unplug it**. At 87% the hub is updating the Zigbee radio firmware, which is slow on Gen 1 and doesn't report progress. On a weak Wi-Fi signal the whole update can take up to **2.5 hours**.

- Pulsing white = still working, leave it alone.
- If it's still at 87% after **3 hours**, unplug it for 10 seconds and plug it back in. The hub keeps the previous firmware until the new one is fully verified, so this is safe at that point, and it will retry the update automatically overnight.""",
                "minutes_after": 70,
                "accepted": True,
                "score_hint": 8,
                "comments": [
                    {
                        "author": "ben_abiola",
                        "body": "Finished at 2h10m. Green again and on 4.3.1. Cheers both.",
                        "minutes_after": 150,
                    },
                ],
            },
        ],
    },
    # 29 ------------------------------------------------------------------
    {
        "author": "jen_lo",
        "title": "How do I add my partner without sharing my password?",
        "body": "My husband and I currently share one Lumen login, which is a mess (he keeps getting logged out when I change things). How do I give him his own account that controls the same house?",
        "tags": ["account"],
        "days_ago": 37.2,
        "comments": [],
        "answers": [
            {
                "author": "maria_k",
                "body": "**Settings > Home > Members > Invite member**, then put in his email. He makes his own account from the invite email and then he sees the same house. I did this for my sister last month and it was easy!",
                "minutes_after": 45,
                "score_hint": 5,
                "comments": [
                    {
                        "author": "jen_lo",
                        "body": "Found it, thanks Maria! He's in and has stopped complaining.",
                        "minutes_after": 60,
                    },
                ],
            },
        ],
    },
    # 30 ------------------------------------------------------------------
    {
        "author": "hana_k",
        "title": "If I delete my Lumen account, is the hub wiped too?",
        "body": """I'm selling my flat and leaving the hub and sensors for the buyer. I want my account and data gone, but I don't want to leave them a hub that still has my Wi-Fi password and automations on it.

Does deleting the account wipe the hub remotely, or do I need to do something on the hub as well? In what order?""",
        "tags": ["privacy", "account", "setup"],
        "days_ago": 59.1,
        "score_hint": 10,
        "comments": [],
        "answers": [
            {
                "author": "rosa_brightway",
                "body": """Deleting the account does **not** wipe the hub, so do it in this order:

1. **Remove the hub from your home**: **Settings > Hubs > (your hub) > Remove hub**. This unlinks it from your account and erases its Wi-Fi credentials, automations and device pairings.
2. **Factory reset it** to be sure: hold the button for **30 seconds** until the light turns solid red and then pulsing blue. Pulsing blue means it's ready for the buyer to set up.
3. Sensors and bulbs will need re-pairing by the new owner anyway. A factory reset of the hub is enough; you don't need to reset each device.
4. **Delete your account** on the web at **Account > Privacy > Delete account**. Cloud data is deleted within 30 days, and backups roll off within 90. Cancel Lumen Plus first if you have it, so you're not billed in between.

If you'd like a copy of your data first, request the export (same page) before step 4.""",
                "minutes_after": 200,
                "accepted": True,
                "score_hint": 11,
                "comments": [],
            },
        ],
    },
    # 31 ------------------------------------------------------------------
    {
        "author": "devpatel",
        "title": "Beta firmware 4.4.0-beta.2: Zigbee devices drop off after ~6 hours",
        "body": """On the beta channel. Since **4.4.0-beta.2** about half my Zigbee devices go *Not responding* roughly 6 hours after a hub reboot. Rebooting the hub brings them back, then it happens again. Was rock solid on beta.1 and on 4.3.1.

Relevant bit from the hub log at the moment it goes wrong:

```
06:02:11 zb: neighbor table: 14 entries
06:02:11 zb: nwk route error from 0x3f1a (MAC no ack)
06:02:12 zb: nwk route error from 0x7c02 (MAC no ack)
06:02:15 zb: coordinator tx queue full (64/64), dropping frames
06:02:15 zb: coordinator tx queue full (64/64), dropping frames
06:04:40 zb: 17 devices marked unreachable
```

The devices that drop are all routers (mains-powered bulbs and plugs); battery sensors that connect directly to the hub stay fine. Diagnostics sent: `DX-9K2P-7T`.""",
        "tags": ["firmware", "devices"],
        "days_ago": 4.3,
        "score_hint": 12,
        "comments": [
            {
                "author": "greta_s",
                "body": "Same on beta.2 with 22 devices. Mostly the older bulbs drop.",
                "minutes_after": 90,
            },
        ],
        "answers": [
            {
                "author": "rosa_brightway",
                "body": """Thanks both, and thanks Dev for the diagnostics, they made it easy to match. This is a known regression in **beta.2**: a route table refresh added in this build floods the coordinator queue on networks with more than ~15 router devices. **beta.3** fixes it and is scheduled for next week.

Until then, you can go back to stable without losing anything: **Settings > Labs > Firmware channel > Stable**. The hub installs 4.3.1 overnight, or straight away if you tap *Check for updates*.""",
                "minutes_after": 180,
                "score_hint": 7,
                "comments": [
                    {
                        "author": "devpatel",
                        "body": (
                            "Switched to Stable, back on 4.3.1 and the mesh has been solid for "
                            "3 hours so far. I'll try beta.3 when it lands."
                        ),
                        "minutes_after": 420,
                    },
                ],
            },
        ],
    },
    # 32 ------------------------------------------------------------------
    {
        "author": "oscar_ruiz",
        "title": "Tenants moved out - how do I reset the hub and remove their access?",
        "body": """The tenants in one of my flats moved out last week. They were members of that home in the app. I want to:

- remove their access
- keep the leak sensors and heating plugs paired (I don't want to re-pair 6 devices)
- change the Wi-Fi, because the new tenants get a new router

What's the cleanest way to do this without a full factory reset?""",
        "tags": ["setup", "account", "wifi"],
        "days_ago": 19.6,
        "comments": [
            {
                "author": "nora_l",
                "body": (
                    "Related threads are in [search results for \"factory reset\"](/search?q=factory+reset), "
                    "but it sounds like you don't need a full reset here."
                ),
                "minutes_after": 30,
            },
        ],
        "answers": [
            {
                "author": "sam_brightway",
                "body": """You don't need a factory reset for any of that:

1. **Remove the old tenants:** **Settings > Home > Members**, tap each person, **Remove from home**. They lose access straight away, including any voice assistant links they made with their own accounts.
2. **Change the Wi-Fi:** when the new router is in, go to **Settings > Hubs > (hub) > Wi-Fi network > Change network** with your phone near the hub. Devices stay paired because they talk to the hub over Zigbee, not Wi-Fi.
3. **Optional:** check **Settings > Home > Automations** for rules the tenants created, and **Recipes** for any connected services they linked.

When the new tenants arrive, invite them as **Member** rather than **Admin** so they can use the devices but can't remove the leak sensors.""",
                "minutes_after": 120,
                "score_hint": 9,
                "comments": [],
            },
        ],
    },
]


class ArticleSpec(TypedDict):
    author: str
    title: str
    body: str
    tags: list[str]
    days_ago: float


# Official knowledge-base articles, published by the support team.
ARTICLES: list[ArticleSpec] = [
    {
        "author": "sam_brightway",
        "title": "Hub status lights explained",
        "tags": ["setup", "devices"],
        "days_ago": 50,
        "body": """What the light on your Lumen hub means, and what to do about it.

| Light | Meaning | What to do |
|---|---|---|
| Pulsing blue | Ready to set up | Open the app and tap **Add hub** |
| Solid green | Online, all good | Nothing |
| Amber | Online but can't reach the Lumen cloud | Check your router allows outbound port 443 and 8883 |
| Blinking orange | Firmware update in progress | Leave it plugged in; it takes up to 15 minutes |
| Red | Offline | Unplug for 10 seconds, plug back in; if it stays red, contact support |

**Gen 2 hubs** show the same colours on the ring; a slow white spin means it is restarting.

If the light does something not on this list, post a question with a photo and your firmware version.""",
    },
    {
        "author": "rosa_brightway",
        "title": "Privacy overview: what the Lumen app collects and how to export it",
        "tags": ["privacy", "account"],
        "days_ago": 45,
        "body": """Lumen collects only what it needs to run your home:

- **Device state and automations**, so the app and schedules work.
- **Location**, only if you use geofencing automations ("when I leave home"). You can turn it off in *Settings > Privacy > Location*; geofencing then stops.
- **Diagnostics**, only when you tap *Help > Send diagnostics*.

## Export or delete your data

1. In the app, open *Settings > Account > Your data*.
2. Tap **Export**. You get an e-mail with a ZIP of JSON files within 24 hours.
3. To delete everything, tap **Delete account**. Your hubs are reset to factory settings.

Questions about privacy? Ask in the community with the `privacy` tag; the support team answers there.""",
    },
]


# --- privileges ----------------------------------------------------------------
# Reputation the demo members earned before the recorded history starts (one ledger row
# each), so the privilege ladder shows: maria_k, jen_lo and oscar_ruiz upvote and comment
# everywhere but only suggest edits, greta_s and up also downvote, devpatel edits others'
# posts directly and reviews suggested edits. A new sign-up starts at 1.
STARTING_REPUTATION: dict[str, int] = {
    "devpatel": 2400,
    "ben_abiola": 1350,
    "hana_k": 880,
    "priya_n": 640,
    "greta_s": 210,
    "liam_obrien": 150,
    "jen_lo": 75,
    "oscar_ruiz": 60,
    "maria_k": 55,
}


class SuggestedEditSpec(TypedDict):
    author: str
    question: int  # index in QUESTIONS
    answer_by: str  # "" for the question itself, else the author of the answer edited
    append: str  # a paragraph added at the end of the body
    summary: str
    reviewer: str  # "" leaves it pending in the review queue
    decision: str  # "approve", "reject" or "" (pending)
    reason: str


SUGGESTED_EDITS: list[SuggestedEditSpec] = [
    {
        "author": "jen_lo", "question": 11, "answer_by": "sam_brightway",
        "append": "On iOS the same switch is under **Settings > Family > Schedules** in app 6.9 and later.",
        "summary": "added where the setting is on iOS", "reviewer": "devpatel", "decision": "approve", "reason": "",
    },
    {
        "author": "oscar_ruiz", "question": 15, "answer_by": "ben_abiola",
        "append": "Routers are all the same, just reboot everything twice.",
        "summary": "simpler fix", "reviewer": "nora_l", "decision": "reject",
        "reason": "Replaces a specific fix with a guess; add it as your own answer if it worked for you.",
    },
    {
        "author": "maria_k", "question": 9, "answer_by": "ben_abiola",
        "append": "The same table of light colours is in the app under *Hub > Help > Lights*.",
        "summary": "added where to find the light colours in the app", "reviewer": "", "decision": "", "reason": "",
    },
]


class LinkSpec(TypedDict):
    """A staff comment on the thread titled ``on`` that links the thread (or article) titled
    ``to``: ``{target}`` becomes ``#<id>`` (or ``/articles/<id>``), ``{asker}`` the asker's name."""

    on: str
    to: str
    author: str
    body: str
    hours_after: float


# Linked threads and @mentions (seeded after the questions and articles, so ids are known).
THREAD_LINKS: list[LinkSpec] = [
    {
        "on": "Firmware update stuck at 87% for over an hour",
        "to": "Firmware 4.3.0 update failed with E-301, hub now boots to amber light",
        "author": "sam_brightway",
        "body": "Same installer bug as {target}: the recovery steps there also get a hub unstuck at 87%. "
                "@{asker}, tell us if it stays on amber afterwards.",
        "hours_after": 3,
    },
    {
        "on": "Charged $49 after cancelling my Lumen Plus free trial?",
        "to": "Charged TWICE for Lumen Plus this month - absolutely unacceptable",
        "author": "rosa_brightway",
        "body": "@{asker} billing refunds work as in {target}; I've flagged your account for the same fix.",
        "hours_after": 2,
    },
    {
        "on": "What does the amber light on the hub mean?",
        "to": "Hub status lights explained",
        "author": "sam_brightway",
        "body": "Every colour and pattern is in our guide {target}, @{asker}.",
        "hours_after": 5,
    },
]
# Tags demo members follow (daily digest; "Following" on the settings page).
TAG_FOLLOWS: dict[str, list[str]] = {
    "sam_brightway": ["wifi", "firmware", "setup"],
    "rosa_brightway": ["billing", "account"],
    "maria_k": ["automations", "recipes"],
}
