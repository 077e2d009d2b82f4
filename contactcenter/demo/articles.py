"""The demo bank's help articles (the knowledge base, issue 17): written in English with Spanish, French and,
for some, Chinese translations, published through the kb service as a planner would write them. The demo
card page's chats have the topic "Cards", so the console suggests the card articles beside them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from contactcenter.kb import service
from contactcenter.kb.schemas import ArticleIn, Status, TranslationIn

# slug, category, {lang: (title, markdown)}; English first (the default language).
ARTICLES: tuple[tuple[str, str, dict[str, tuple[str, str]]], ...] = (
    (
        "block-lost-card",
        "cards",
        {
            "en": (
                "Block a lost or stolen card",
                "If your card is lost or stolen, block it straight away:\n\n"
                "1. Open the Harbour Bank app and go to **Cards**.\n2. Choose the card and tap **Block card**.\n"
                "3. Order a replacement: it arrives within 5 working days.\n\n"
                "No app? Call us any time on 0800 123 4567. You are never liable for payments made after you "
                "told us.",
            ),
            "es": (
                "Bloquear una tarjeta perdida o robada",
                "Si pierde su tarjeta o se la roban, bloquéela enseguida:\n\n"
                "1. Abra la app de Harbour Bank y vaya a **Tarjetas**.\n2. Elija la tarjeta y pulse **Bloquear**.\n"
                "3. Pida una nueva: llega en 5 días hábiles.\n\n"
                "¿Sin la app? Llámenos a cualquier hora al 0800 123 4567.",
            ),
            "fr": (
                "Bloquer une carte perdue ou volée",
                "Si votre carte est perdue ou volée, bloquez-la tout de suite :\n\n"
                "1. Ouvrez l'application Harbour Bank, rubrique **Cartes**.\n"
                "2. Choisissez la carte et touchez **Bloquer**.\n"
                "3. Commandez une nouvelle carte : elle arrive sous 5 jours ouvrés.\n\n"
                "Pas d'application ? Appelez-nous à toute heure au 0800 123 4567.",
            ),
            "zh": (
                "冻结丢失或被盗的银行卡",
                "如果您的银行卡丢失或被盗，请立即冻结：\n\n1. 打开 Harbour Bank 应用，进入**银行卡**。\n"
                "2. 选择该卡并点击**冻结**。\n3. 申请补卡：5 个工作日内寄到。\n\n没有应用？请随时拨打 0800 123 4567。",
            ),
        },
    ),
    (
        "card-abroad",
        "cards",
        {
            "en": (
                "Using your card abroad",
                "The Everyday card works worldwide with **no foreign transaction fee**. You do not need to tell "
                "us before you travel. If a payment is declined abroad, check that **Payments abroad** is on in "
                "the app under **Cards › Settings**.",
            ),
            "es": (
                "Usar la tarjeta en el extranjero",
                "La tarjeta Everyday funciona en todo el mundo **sin comisión por cambio de divisa**. No hace falta "
                "avisarnos antes de viajar. Si rechazan un pago, compruebe que **Pagos en el extranjero** está "
                "activado en la app, en **Tarjetas › Ajustes**.",
            ),
            "fr": (
                "Utiliser sa carte à l'étranger",
                "La carte Everyday fonctionne partout **sans frais de change**. Inutile de nous prévenir avant de "
                "partir. Si un paiement est refusé, vérifiez que **Paiements à l'étranger** est activé dans "
                "l'application, rubrique **Cartes › Réglages**.",
            ),
        },
    ),
    (
        "reset-password",
        "online-banking",
        {
            "en": (
                "Reset your online banking password",
                "On the sign-in page choose **Forgot password**, enter your customer number and the code we "
                "text to your phone, then pick a new password of at least 12 characters. We never ask for your "
                "password by phone, email or chat.",
            ),
            "es": (
                "Restablecer la contraseña de la banca online",
                "En la página de acceso elija **He olvidado la contraseña**, escriba su número de cliente y el "
                "código que le enviamos por SMS, y elija una contraseña nueva de al menos 12 caracteres. Nunca le "
                "pediremos su contraseña por teléfono, correo o chat.",
            ),
            "zh": (
                "重置网上银行密码",
                "在登录页面选择**忘记密码**，输入您的客户号和我们发送到您手机的验证码，然后设置至少 12 位的新密码。"
                "我们绝不会通过电话、邮件或聊天索要您的密码。",
            ),
        },
    ),
    (
        "mortgage-overpayment",
        "mortgages",
        {
            "en": (
                "Overpaying your mortgage",
                "You can overpay up to **10% of the balance each year** without a fee. Make a one-off "
                "overpayment in the app under **Mortgage › Overpay**, or set up a regular one. Overpaying "
                "shortens the term unless you ask us to lower the monthly payment instead.",
            ),
            "es": (
                "Amortizar su hipoteca anticipadamente",
                "Puede amortizar hasta **el 10 % del saldo cada año** sin comisión. Haga un pago puntual en la app, "
                "en **Hipoteca › Amortizar**, o programe uno periódico. Amortizar acorta el plazo, salvo que nos "
                "pida bajar la cuota mensual.",
            ),
        },
    ),
    (
        "open-savings",
        "savings",
        {
            "en": (
                "Opening an easy access savings account",
                "Any current account customer can open **Easy Access Saver** in the app in two minutes. Money "
                "moves between your accounts instantly and interest is paid monthly. See our "
                "[savings rates](https://harbour-bank.example/savings).",
            ),
            "fr": (
                "Ouvrir un compte épargne disponible",
                "Tout client titulaire d'un compte courant peut ouvrir un **Easy Access Saver** dans "
                "l'application en deux minutes. L'argent passe d'un compte à l'autre aussitôt et les intérêts sont "
                "versés chaque mois.",
            ),
        },
    ),
)


async def seed_articles(s: AsyncSession, *, author_id: int) -> int:
    """Publish the demo articles with their translations; returns how many."""
    for slug, category, texts in ARTICLES:
        title, body = texts["en"]
        data = ArticleIn(slug=slug, category=category, status=Status.published, lang="en", title=title, body_md=body)
        article = await service.create(s, data=data, author_id=author_id)
        for lang, (title, body) in texts.items():
            if lang != "en":
                await service.put_translation(
                    s, article_id=article.id, lang=lang, data=TranslationIn(title=title, body_md=body)
                )
    return len(ARTICLES)
