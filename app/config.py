"""Default configuration: the one home of every setting's default, grouped by area.

Every key can be overridden by ``instance/config.py`` or a ``JIUZAI_*`` environment variable
(``JIUZAI_REPORT_INITIAL_HOURS=3``; JSON values are parsed)."""
from __future__ import annotations

from datetime import timedelta


class Defaults:
    # None: read instance/secret_key (``make secret-key``, run by ``make run``); outside tests the
    # app refuses to start without a key of its own (app/security.py).
    SECRET_KEY = None
    # None means: an SQLite file in the instance folder (set in create_app).
    SQLALCHEMY_DATABASE_URI = None
    # Merged over create_app's defaults: pool_pre_ping=True (a connection the database dropped
    # during a restart is replaced at checkout instead of failing the request with a 500) and,
    # on SQLite, a 30 s busy timeout.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    JSON_AS_ASCII = False

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ["zh_CN", "en"]
    TIMEZONE = "Asia/Shanghai"

    BOOTSTRAP_SERVE_LOCAL = True
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Served over HTTPS (directly or behind a TLS-terminating proxy): Secure cookies, https
    # external URLs and Strict-Transport-Security for HSTS_MAX_AGE seconds.
    HTTPS = False
    HSTS_MAX_AGE = 365 * 24 * 3600
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust (0: none; 1: one
    # nginx; 2: a load balancer and nginx), or a dict of werkzeug ProxyFix arguments.
    PROXY_FIX = 0
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)

    PASSWORD_HASH_METHOD = "scrypt"  # the test suite uses a cheap pbkdf2 to stay fast
    API_TOKEN_HOURS = 24
    # How long (seconds) a process trusts a token it has checked in the database, so that a burst
    # of requests with one token (a phone sending its queue) reads it once: a revoked token, a
    # deactivated user or a changed role is refused at once by the process that made the change
    # and within this bound by every other worker and instance. 0: every request reads it.
    API_TOKEN_CACHE_SECONDS = 2.0
    RATELIMIT_ENABLED = True
    # Counted in the database (app/ratelimit.py), so every worker and every instance share the
    # counts; "memory://" counts per process (one process only), "redis://host" works as well.
    RATELIMIT_STORAGE_URI = "database://"
    RATELIMIT_HEADERS_ENABLED = True

    # Stored files (app/storage.py: photos and other uploads kept), seen by every instance:
    # "database" (the default: the bytes in the stored_file table) or "s3" (an S3-compatible
    # bucket; needs the s3 extra, boto3, and credentials the way boto3 finds them).
    FILE_STORAGE = "database"
    FILE_STORAGE_S3_BUCKET = None
    FILE_STORAGE_S3_ENDPOINT_URL = None  # MinIO, Ceph RGW...; None for AWS itself
    FILE_STORAGE_S3_REGION = None
    FILE_STORAGE_S3_PREFIX = ""

    # Loss reporting (domain.md §3); all configurable.
    REPORT_INITIAL_HOURS = 2  # 初报: county, after the event starts
    REPORT_FORWARD_HOURS = 2  # prefecture and province, after the first initial report from below
    # 续报 and 核报 by level; a single value sets the county's only.
    REPORT_DAILY_DUE = {"county": "09:00", "prefecture": "10:00", "province": "12:00"}
    REPORT_DROUGHT_INTERVAL_DAYS = 10
    # Drought: no 2 h clock; the initial report (旱情初显) is due within its first period, this many
    # days after the start (or the county's first impact), at the county's daily due time.
    REPORT_DROUGHT_INITIAL_DAYS = 10
    # Each level counts from the level below; the older rule was {"county": 2, "prefecture": 3, "province": 5}.
    REPORT_VERIFIED_WORKING_DAYS = {"county": 5, "prefecture": 5, "province": 5}
    REPORT_DIRECT_ALERT_DEATHS_MISSING = 10
    # 直报 also on mass house collapse (大量房屋倒塌; our defaults): collapsed rooms or households in
    # one county at or above these make the direct report to the province and the nation due.
    REPORT_DIRECT_COLLAPSED_ROOMS = 1000
    REPORT_DIRECT_COLLAPSED_HOUSEHOLDS = 300
    REPORT_JUMP_UP_FACTOR = 3.0
    REPORT_JUMP_DOWN_FACTOR = 0.5
    # The largest figure one report may carry (persons, rooms, households, livestock, hectares,
    # 万元): above any real county, far below what the totals of a whole country can hold.
    REPORT_FIGURE_MAX = 1_000_000_000
    # Forecast (预判): the hazard-footprint upload limit, the exposure rates per hazard and
    # intensity class (None: gis.DEFAULT_EXPOSURE_RATES, documented defaults to calibrate per
    # province) and rooms per household for the houses estimate ([default]).
    FOOTPRINT_MAX_BYTES = 50 * 1024 * 1024
    FORECAST_EXPOSURE_RATES = None
    FORECAST_ROOMS_PER_HOUSEHOLD = 3.0
    # Plausibility against the region (its population and households; a region without them
    # uses its nearest ancestor's): a people count above HARD x population, or a household count
    # above HARD x households, is refused; above the field's SOFT share it needs a note (说明).
    REPORT_POPULATION_HARD_SHARE = 1.0
    REPORT_POPULATION_SOFT_SHARES = {
        "affected_population": 0.9, "deaths": 0.02, "missing": 0.02, "injured": 0.1,
        "evacuated_population": 0.6, "relocated_population": 0.6, "needing_aid_population": 0.6,
        "needing_transitional_aid": 0.3, "drought_needing_aid_population": 0.6,
        "water_shortage_population": 0.6, "collapsed_households": 0.3,
        "severely_damaged_households": 0.5, "generally_damaged_households": 0.8,
    }
    REPORT_PHOTO_MAX_BYTES = 8 * 1024 * 1024
    REPORT_PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"]
    # Before stored files: report photos were files under this folder (default instance/photos);
    # `flask reports import-photos` moves them into the file store (FILE_STORAGE above).
    REPORT_PHOTO_DIR = None
    HOLIDAYS: list[str] = []  # ISO dates that are not working days
    EXTRA_WORKDAYS: list[str] = []  # weekend dates that are working days (调休)

    # Public release (统一发布): who the CAP alerts and the Atom feed name as their sender.
    RELEASE_CAP_SENDER = "jiuzai@example.invalid"
    RELEASE_PUBLISHER = "自然灾害救助应急响应系统（演示）"
    # Complaints from the public (投诉举报): the handling deadline in working days, how many
    # complaints one address may file (Flask-Limiter syntax) and the escalation steps.
    COMPLAINT_WORKING_DAYS = 15
    COMPLAINT_RATE_LIMIT = "5 per hour"
    COMPLAINT_PHOTO_COUNT = 3
    COMPLAINT_PHOTO_MAX_BYTES = 5 * 1024 * 1024
    # 发放签领 (app/distribution): a hand-out's signature (PNG) or photo (JPEG/PNG), sent inside
    # the JSON body as a data URL, so it also fits under MAX_CONTENT_LENGTH
    DISTRIBUTION_PROOF_MAX_BYTES = 1024 * 1024
    COMPLAINT_UPLOAD_MAX_BYTES = 15 * 1024 * 1024  # the whole form with its photos
    # Department sharing: the largest house-safety appraisal document 住建 may attach.
    APPRAISAL_MAX_BYTES = 5 * 1024 * 1024

    # Response levels: during a burst of reports, recompute an event's assessment at most this
    # often inline; the responses.refresh job picks up the rest within a minute.
    ASSESSMENT_MIN_INTERVAL_SECONDS = 10
    # The sweep also recomputes an assessment with a report stamped later than this before it.
    ASSESSMENT_SWEEP_MARGIN_SECONDS = 60

    # Uploads (app/uploads.py, app/spreadsheets.py): a request may carry MAX_CONTENT_LENGTH bytes
    # unless its view takes a file (photos: REPORT_PHOTO_MAX_BYTES, spreadsheets:
    # SPREADSHEET_MAX_BYTES, each plus 64 KB for the rest of the form); larger is a 413.
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 500_000  # bytes in any one non-file form field
    MAX_FORM_PARTS = 1_000  # fields and files in one multipart form
    SPREADSHEET_MAX_BYTES = 10 * 1024 * 1024
    SPREADSHEET_MAX_ROWS = 50_000  # rows of an uploaded sheet, title and header rows included
    SPREADSHEET_MAX_COLUMNS = 60
    SPREADSHEET_MAX_UNZIPPED_BYTES = 100 * 1024 * 1024  # zip bomb: all members together, expanded
    SPREADSHEET_MAX_COMPRESSION_RATIO = 100  # zip bomb: any member over 1 MB expanded
    # Region files (flask regions import): a zipped Shapefile is checked from its directory and
    # extracted into a temporary directory, never beyond this many bytes.
    REGION_FILE_MAX_UNZIPPED_BYTES = 2 * 1024 * 1024 * 1024

    # Map: no tiles by default (works offline). Set an XYZ template to use a tile server.
    MAP_TILES_URL = None
    MAP_TILES_ATTRIBUTION = ""
    GIS_COVERAGE_KM = 50.0

    NOTIFIER_ADAPTERS = ["log"]  # any of: log, email, sms
    # The outbox (app.notifications.delivery): a claim's lease, the first retry's wait (doubling
    # each time, at most a day) and the attempts before a delivery is marked failed.
    NOTIFY_CLAIM_SECONDS = 600
    NOTIFY_RETRY_SECONDS = 60
    NOTIFY_MAX_ATTEMPTS = 8
    SMTP_HOST = "127.0.0.1"
    SMTP_PORT = 25
    SMTP_FROM = "jiuzai@localhost"
    SMS_GATEWAY_URL = "http://127.0.0.1:9000/sms"
    SCHEDULER_TIMEZONE = "Asia/Shanghai"

    # --- Sign-in, sessions, passwords and login throttling (app.auth) ---

    # Throttling, stored in the database (table login_failure) so that every gunicorn worker and
    # every instance counts the same failures. Only failures count, never successes.
    LOGIN_THROTTLE_ENABLED = True
    # Per account: this many failures within the window lock the account for the lock-out time.
    LOGIN_ACCOUNT_MAX_FAILURES = 5
    LOGIN_ACCOUNT_WINDOW_MINUTES = 15
    LOGIN_ACCOUNT_LOCKOUT_MINUTES = 15
    # Per address: a much larger budget, so that a county office behind one NAT address still
    # gets in at 09:00 while a password sprayer from one address is stopped.
    LOGIN_ADDRESS_MAX_FAILURES = 50
    LOGIN_ADDRESS_WINDOW_MINUTES = 15
    LOGIN_ADDRESS_LOCKOUT_MINUTES = 15
    # Page sessions end after this long without a request, and this long after sign-in at most.
    SESSION_IDLE_MINUTES = 120
    SESSION_MAX_HOURS = 12
    # A temporary password (admin reset, ``users set-password --generate``) signs in once and
    # expires after this many hours.
    TEMPORARY_PASSWORD_HOURS = 72
    PASSWORD_MIN_LENGTH = 8

    # --- Loss reporting: photos (app.reports) ---

    REPORT_MAJOR_MIN_PHOTOS = 3  # 重大灾害: photos per report asked by the national system
    REPORT_PHOTO_MAX_PER_REPORT = 20

    # --- Relief cycles and the scheduler (app.cycles; defaults from domain.md §4) ---

    # Public notice (公示): at least 7 days (domain.md §4).
    CYCLE_NOTICE_DAYS = 7
    CYCLE_SUPPLEMENTARY_NOTICE_DAYS = 7
    # Transitional living relief (过渡期生活救助): CNY per person per day, months, maximum months.
    CYCLE_TRANSITIONAL_DAILY_CNY = 20
    CYCLE_TRANSITIONAL_MONTHS = 3
    CYCLE_TRANSITIONAL_MAX_MONTHS = 6
    # Winter-spring relief (冬春生活救助): CNY per person for the season, paid monthly.
    CYCLE_WINTER_SPRING_PER_PERSON_CNY = 130
    # When the yearly job opens the county surveys (cron fields, local time): late September.
    CYCLE_WINTER_SPRING_SURVEY_TRIGGER = {"month": 9, "day": 20, "hour": 8, "minute": 0}
    CYCLE_WINTER_SPRING_DEADLINES = {"county": "10-15", "prefecture": "10-20", "province": "10-25"}
    CYCLE_WINTER_SPRING_REMIND_DAYS = 3
    CYCLE_WINTER_SPRING_PAY_FROM_MONTH = 12
    CYCLE_WINTER_SPRING_PAY_TO_MONTH = 5
    CYCLE_WINTER_SPRING_SINGLE_CROP_TO_MONTH = 7
    # Regions (any level) whose counties are single-crop areas: payments run to July there.
    CYCLE_WINTER_SPRING_SINGLE_CROP_REGIONS: list[str] = []
    # Counties (or larger regions) whose winter-spring survey the yearly job opens; empty: all.
    CYCLE_WINTER_SPRING_REGIONS: list[str] = []
    # Winter-spring money: the winter share (percent of the season's money; None: by months,
    # winter = December–February) goes out before Spring Festival (this percent of it; the rest
    # in the winter months after it), the spring share by the end of the shortage season. Spring
    # Festival comes from the Chinese calendar (app/cycles/festival.py), never from a table.
    CYCLE_WINTER_SPRING_WINTER_PERCENT: int | None = None
    CYCLE_WINTER_SPRING_BEFORE_FESTIVAL_PERCENT = 100
    # The county is warned this many days before Spring Festival while winter money due before
    # it is unpaid (three weeks), and alerted after it.
    CYCLE_SPRING_FESTIVAL_WARN_DAYS = 21
    # Housing reconstruction (倒损住房恢复重建): subsidy by damage class, instalments by stage (%).
    CYCLE_RECONSTRUCTION_SUBSIDY_CNY = {"collapsed": 20000, "severely_damaged": 20000,
                                        "generally_damaged": 2000}
    CYCLE_RECONSTRUCTION_INSTALMENTS = {
        "rebuild": {"started": 40, "main_structure": 30, "completed": 30},
        "repair": {"completed": 100},
    }
    CYCLE_RECONSTRUCTION_REPORT_DAYS = 20
    # 逐户核查: the township checks each house within this many days of the event's stabilisation
    # (domain.md §4, checked); later checks need a reason and are marked late. Photos per check.
    CYCLE_RECONSTRUCTION_CHECK_DAYS = 15
    CYCLE_CHECK_MIN_PHOTOS = 1
    CYCLE_CHECK_PHOTO_COUNT = 6
    CYCLE_CHECK_PHOTO_MAX_BYTES = 5 * 1024 * 1024
    CYCLE_CHECK_UPLOAD_MAX_BYTES = 30 * 1024 * 1024  # the whole check form with its photos
    # One-off aid.
    CYCLE_CONDOLENCE_PER_DEATH_CNY = 10000
    CYCLE_DROUGHT_PER_PERSON_CNY = 60
    CYCLE_EMERGENCY_PER_PERSON_CNY = 300  # 应急救助 (emergency relief), the central norm
    # Estimates of what an event needs (资金需求测算): transitional aid counted as this many days.
    CYCLE_ESTIMATE_TRANSITIONAL_DAYS = 90
    # Monthly instalments fall due on this day of the month.
    CYCLE_PAYMENT_DAY = 1
    # Scheduler: trigger overrides per job id ({"cycles.rolls": {"hour": 5}}), lease and staleness.
    SCHEDULER_TRIGGERS: dict = {}
    SCHEDULER_LEASE_SECONDS = 60
    SCHEDULER_STALE_SECONDS = 600
