"""Who is in the demo bank, "Harbour Bank": word lists, the product catalogue, and customers drawn from them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from contactcenter.ccr.schemas import Channel, Direction, TouchIn, TouchKind

BANK = "Harbour Bank"


@dataclass(frozen=True)
class ProductDef:
    sku: str
    name: str
    category: str
    # List price: the monthly or annual fee, or the minimum opening amount; see `amount` for order sizes.
    price: Decimal
    path: str
    # Typical order amount for a mass-market customer (deposit, loan, premium); scaled up by segment.
    amount: tuple[int, int]
    # Relative chance of being ordered, per segment: mass, affluent, private, small_business.
    weights: tuple[int, int, int, int]


PRODUCTS: tuple[ProductDef, ...] = (
    ProductDef("HB-CA-EVERYDAY", "Everyday Current Account", "current_account", Decimal("0.00"),
               "/accounts/everyday", (0, 0), (30, 10, 2, 4)),
    ProductDef("HB-CA-PREMIER", "Premier Current Account", "current_account", Decimal("15.00"),
               "/accounts/premier", (180, 180), (2, 20, 25, 2)),
    ProductDef("HB-CA-BUSINESS", "Business Current Account", "current_account", Decimal("8.50"),
               "/business/current-account", (102, 102), (0, 0, 0, 40)),
    ProductDef("HB-SV-EASY", "Easy Access Saver", "savings", Decimal("1.00"),
               "/savings/easy-access", (200, 5_000), (20, 12, 6, 10)),
    ProductDef("HB-SV-FIXED2", "2-Year Fixed Rate Bond", "savings", Decimal("1000.00"),
               "/savings/fixed-rate-bond", (1_000, 10_000), (5, 12, 10, 6)),
    ProductDef("HB-ISA-CASH", "Cash ISA", "isa", Decimal("1.00"),
               "/isas/cash-isa", (500, 5_000), (14, 12, 6, 2)),
    ProductDef("HB-ISA-SS", "Stocks and Shares ISA", "isa", Decimal("100.00"),
               "/isas/stocks-and-shares", (1_000, 6_000), (3, 14, 14, 1)),
    ProductDef("HB-CC-CLASSIC", "Classic Credit Card", "credit_card", Decimal("0.00"),
               "/cards/classic", (0, 0), (22, 6, 1, 6)),
    ProductDef("HB-CC-REWARDS", "Rewards Credit Card", "credit_card", Decimal("36.00"),
               "/cards/rewards", (36, 36), (4, 14, 10, 4)),
    ProductDef("HB-LN-PERSONAL", "Personal Loan", "loan", Decimal("1000.00"),
               "/loans/personal", (2_000, 15_000), (12, 4, 1, 8)),
    ProductDef("HB-MG-FIX5", "5-Year Fixed Mortgage", "mortgage", Decimal("999.00"),
               "/mortgages/five-year-fixed", (120_000, 260_000), (5, 8, 6, 2)),
    ProductDef("HB-MG-TRACKER", "Tracker Mortgage", "mortgage", Decimal("499.00"),
               "/mortgages/tracker", (110_000, 240_000), (2, 5, 6, 1)),
    ProductDef("HB-FD-GLOBAL", "Global Equity Fund", "investment", Decimal("500.00"),
               "/funds/global-equity", (1_000, 8_000), (2, 12, 18, 1)),
    ProductDef("HB-FD-BOND", "Sterling Corporate Bond Fund", "investment", Decimal("500.00"),
               "/funds/sterling-bond", (1_000, 6_000), (1, 6, 14, 1)),
    ProductDef("HB-IN-HOME", "Home Insurance", "insurance", Decimal("240.00"),
               "/insurance/home", (180, 420), (8, 8, 5, 2)),
    ProductDef("HB-IN-TRAVEL", "Annual Travel Insurance", "insurance", Decimal("65.00"),
               "/insurance/travel", (55, 140), (6, 10, 6, 2)),
    ProductDef("HB-IN-LIFE", "Life Cover", "insurance", Decimal("180.00"),
               "/insurance/life", (120, 480), (4, 6, 4, 2)),
)  # fmt: skip

# Bought together often (the pattern product-to-product analytics should find): sku -> (sku, chance).
ASSOCIATIONS: dict[str, tuple[str, float]] = {
    "HB-MG-FIX5": ("HB-IN-HOME", 0.7),
    "HB-MG-TRACKER": ("HB-IN-HOME", 0.6),
    "HB-ISA-SS": ("HB-FD-GLOBAL", 0.5),
    "HB-CA-PREMIER": ("HB-IN-TRAVEL", 0.5),
    "HB-CA-EVERYDAY": ("HB-CC-CLASSIC", 0.35),
    "HB-LN-PERSONAL": ("HB-IN-LIFE", 0.2),
}

# Segment name, share of customers (percent), multiplier on order amounts.
SEGMENTS: tuple[tuple[str, int, float], ...] = (
    ("mass", 60, 1.0),
    ("affluent", 22, 3.0),
    ("private", 6, 9.0),
    ("small_business", 12, 2.0),
)

FIRST_NAMES = (
    "Oliver", "George", "Harry", "Jack", "Jacob", "Noah", "Charlie", "Thomas", "Oscar", "William",
    "James", "Leo", "Alfie", "Henry", "Joshua", "Freddie", "Archie", "Ethan", "Isaac", "Alexander",
    "Mohammed", "Daniel", "Samuel", "Arthur", "Rhys", "Callum", "Euan", "Owen", "Ravi", "Tomasz",
    "Olivia", "Amelia", "Isla", "Ava", "Emily", "Sophie", "Grace", "Mia", "Poppy", "Ella",
    "Lily", "Evie", "Isabella", "Charlotte", "Jessica", "Daisy", "Freya", "Alice", "Florence", "Ruby",
    "Eilidh", "Niamh", "Siobhan", "Bethan", "Catrin", "Priya", "Aisha", "Zara", "Hannah", "Lucy",
)  # fmt: skip

SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
    "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke",
    "Patel", "Khan", "Lewis", "Harris", "Hughes", "Edwards", "Turner", "Hill", "Moore", "Cooper",
    "Ward", "Morris", "King", "Watson", "Baker", "Harrison", "Morgan", "Young", "Allen", "Mitchell",
    "Campbell", "Stewart", "MacDonald", "Murray", "Reid", "Kelly", "O'Brien", "Murphy", "Begum", "Ahmed",
    "Singh", "Shah", "Nowak", "Kowalski", "Bennett", "Gray", "Price", "Bell", "Fletcher", "Marsh",
)  # fmt: skip

# (city, branch): where a customer lives and the branch that knows them.
BRANCHES = (
    ("London", "London Moorgate"), ("Manchester", "Manchester King Street"), ("Leeds", "Leeds Briggate"),
    ("Bristol", "Bristol Broadmead"), ("Birmingham", "Birmingham New Street"),
    ("Glasgow", "Glasgow Buchanan Street"), ("Edinburgh", "Edinburgh George Street"),
    ("Cardiff", "Cardiff Queen Street"), ("Belfast", "Belfast Donegall Place"), ("Newcastle", "Newcastle Grey Street"),
    ("Liverpool", "Liverpool Castle Street"), ("Nottingham", "Nottingham Market Square"),
    ("Southampton", "Southampton Above Bar"), ("Norwich", "Norwich Gentleman's Walk"),
    ("Plymouth", "Plymouth Royal Parade"),
)  # fmt: skip

TRADES = (
    "Joinery Ltd", "Plumbing & Heating", "Bakery", "Dental Practice", "Accountancy LLP", "Florists",
    "Coffee Co.", "Electrical Services", "Landscaping", "Physiotherapy", "Print Studio", "Cycle Repairs",
)  # fmt: skip

EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# Pages that are not about one product: (path, title).
GENERAL_PAGES = (
    ("/", "Home"),
    ("/rates", "Savings and loan rates"),
    ("/help/lost-card", "Lost or stolen card"),
    ("/help/app", "Banking app help"),
    ("/mortgages/calculator", "Mortgage calculator"),
    ("/branches", "Find a branch"),
    ("/security/scams", "Spotting scams"),
)

# Touch texts. {product} is a product name, {branch} the customer's branch.
CALLS_IN = (
    "Reported a lost debit card; card cancelled and a replacement sent",
    "Asked about {product} rates; agent explained the current terms",
    "Disputed a card payment to an online retailer; chargeback opened",
    "Updated address after moving house; ID checked",
    "Queried an overdraft charge; fee refunded as a goodwill gesture",
    "Asked what documents the {product} application needs",
    "Confirmed a large transfer was genuine after a fraud alert",
    "Asked whether the {product} suits their plans; review booked",
    "Locked out of online banking; passcode reset after security questions",
)
CALLS_OUT = (
    "Courtesy call about the {product} renewal",
    "Returned the callback about the {product}; customer will think it over",
    "Called to confirm documents received for the {product} application",
)
# (customer's question, agent's answer)
CHATS = (
    (
        "What's the interest rate on the {product} at the moment?",
        "Today's rate is on our rates page; I'll send the key facts too.",
    ),
    (
        "I'd like to know more about the {product}, is it right for me?",
        "Happy to help. I can send you the key facts for the {product} now.",
    ),
    ("Is there a fee for the {product}?", "Every fee is listed in the key facts; there is nothing to pay to apply."),
    ("How do I set up a standing order in the app?", "You can do that in the app under Payments > Standing orders."),
    ("My card was declined abroad, can you help?", "I've lifted the block; the card will work again in a few minutes."),
    (
        "I'm still waiting for a letter about my {product}, has it been sent?",
        "It went out on Monday; I can email you a copy now as well.",
    ),
)
CHAT_FOLLOWUPS = ("Great, thank you!", "That's really helpful.", "OK, I'll have a look tonight.", "Perfect, cheers.")
EMAILS_IN = (
    "Request for a mortgage redemption statement",
    "Question about my {product} statement",
    "Proof of address letter needed",
    "Change of name after marriage",
    "Complaint: branch queue on Saturday morning",
    "Can I add my partner to the {product}?",
)
EMAILS_OUT = (
    "Re: your question about the {product}",
    "Your {product} annual summary",
    "Your documents have arrived",
    "Rate change on your {product}",
)
CALLBACK_TOPICS = (
    "{product} options",
    "remortgaging before the fixed rate ends",
    "a missing payment",
    "opening an account for a child",
    "investing a lump sum",
)
BRANCH_NOTES = (
    "Branch visit ({branch}): annual financial review",
    "Branch visit ({branch}): opened the {product} with an adviser",
    "Branch visit ({branch}): savings goals for a house deposit",
    "Branch visit ({branch}): ID check for a new mandate",
    "Branch visit ({branch}): paid in cheques, asked about the {product}",
)
DOCUMENTS = (
    ("{product} key facts.pdf", "application/pdf"),
    ("{product} terms and conditions.pdf", "application/pdf"),
    ("Global Equity Fund factsheet.pdf", "application/pdf"),
    ("Savings rates table.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("Mortgage illustration.pdf", "application/pdf"),
    ("Fund performance chart.png", "image/png"),
)

DEMO_STAFF: tuple[tuple[str, str, str], ...] = (
    # username, display name, role; the password is "<username>-demo-pass".
    ("admin", "Ada Admin", "admin"),
    ("sam", "Sam Supervisor", "supervisor"),
    ("alice", "Alice Agent", "agent"),
    ("bob", "Bob Agent", "agent"),
    ("pat", "Pat Planner", "planner"),
)

# Where each kind of touch happens and which way it goes, unless a call says otherwise.
KIND_DEFAULTS: dict[TouchKind, tuple[Channel, Direction]] = {
    TouchKind.page_view: (Channel.web, Direction.inbound),
    TouchKind.message: (Channel.chat, Direction.inbound),
    TouchKind.call: (Channel.voice, Direction.inbound),
    TouchKind.email: (Channel.email, Direction.inbound),
    TouchKind.callback_request: (Channel.callback, Direction.inbound),
    TouchKind.note: (Channel.face_to_face, Direction.internal),
    TouchKind.cobrowse: (Channel.web, Direction.outbound),
    TouchKind.document_push: (Channel.web, Direction.outbound),
}


@dataclass
class Person:
    n: int
    name: str
    segment: str
    email: str
    phone: str  # national format, as a customer would type it; the CCR stores E.164
    profile: dict[str, Any]
    drifting: bool  # went quiet months ago: the attrition signal analytics should find
    id: int = 0
    touches: list[TouchIn] = field(default_factory=list)

    @property
    def e164(self) -> str:
        return "+44" + self.phone[1:].replace(" ", "")


def people(rng: random.Random, count: int) -> list[Person]:
    """`count` customers with UK names, segments, emails and mobile numbers; the same for the same rng state."""
    phones = rng.sample(range(100_000, 200_000), count)  # +44 7700 1xxxxx: mobile numbers that validate
    segments = [s for s, share, _ in SEGMENTS for _ in range(share)]
    out = []
    for n in range(1, count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        segment = rng.choice(segments)
        city, branch = rng.choice(BRANCHES)
        local = f"{first}.{last}".lower().replace("'", "")
        profile: dict[str, Any] = {"city": city, "home_branch": branch, "customer_since": rng.randint(1995, 2024)}
        profile["marketing_consent"] = rng.random() < 0.7
        if segment == "small_business":
            profile["business_name"] = f"{last} {rng.choice(TRADES)}"
        email = f"{local}{n}@{rng.choice(EMAIL_DOMAINS)}"
        phone = f"07700 {phones[n - 1]}"
        out.append(Person(n, f"{first} {last}", segment, email, phone, profile, drifting=rng.random() < 0.08))
    return out
