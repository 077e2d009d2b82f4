/* The widget's texts, one table per language, and t(key, params). GET /widget.js serves this file and
 * widget.js together inside one function (contactcenter/channels/chat/widget.py), so nothing here is global
 * on the site's page. To add a language: add its tag (lower case: "es", "pt-br", "zh-hans") with any of the
 * English keys; a key it lacks is shown in English. A value is a string with {name} parameters, or, for
 * counts, one string per plural category of Intl.PluralRules ("one", "few", "many", "other", ...). */
const WIDGET_TEXTS = {
  en: {
    title: "Chat with us",
    subtitle: "We usually reply within a few minutes",
    "launcher.open": "Open chat",
    "launcher.close": "Close chat",
    "launcher.unread": { one: "{label}, {count} unread", other: "{label}, {count} unread" },
    "header.transcript": "Email me the transcript",
    "header.end": "End chat",
    "header.minimise": "Minimise",
    "header.minimiseLabel": "Minimise chat",
    "status.reconnecting": "Reconnecting…",
    "status.waiting": "Waiting for an agent…",
    "status.chatting": "Chatting with {name}",
    "status.joined": "An adviser has joined",
    "status.ended": "Chat ended",
    "prechat.heading": "Hello! How can we help?",
    "prechat.intro": "Tell us who you are (both optional) and an adviser will be with you shortly.",
    "prechat.name": "Your name",
    "prechat.email": "Email",
    "prechat.start": "Start chat",
    "prechat.fine": "We keep a record of this chat to help you better.",
    "log.label": "Messages",
    "agent.default": "Adviser",
    typing: "{name} is typing…",
    "ended.heading": "Chat ended",
    "ended.text": "Thanks for chatting with us. Need anything else?",
    "ended.new": "Start a new chat",
    "ended.transcript": "Email me the transcript",
    "notice.dismiss": "Dismiss",
    "transcript.heading": "Email me the transcript",
    "transcript.to": "Send a copy of this chat to",
    "transcript.send": "Send transcript",
    "transcript.close": "Close",
    "transcript.invalid": "Please enter a valid email address.",
    "transcript.sending": "Sending…",
    "transcript.sent": {
      one: "Transcript sent to {email} ({count} message).",
      other: "Transcript sent to {email} ({count} messages).",
    },
    "transcript.failed": "Couldn't send the transcript: {error}",
    "confirm.heading": "End this chat?",
    "confirm.text": "You can start a new chat at any time.",
    "confirm.end": "End chat",
    "confirm.keep": "Keep chatting",
    "composer.placeholder": "Write a message…",
    "composer.label": "Message",
    "composer.attach": "Attach an image or PDF",
    "composer.send": "Send",
    "composer.sendLabel": "Send message",
    brand: "Secure chat",
    "msg.uploading": "Uploading…",
    "msg.sending": "Sending…",
    "msg.sent": "Sent",
    "msg.seen": "Seen",
    "msg.notSent": "Not sent: {error}",
    "msg.retry": "Retry",
    "msg.retryLabel": "Retry sending",
    "msg.chatEnded": "This chat has ended.",
    "att.allowed": "PNG, JPEG, GIF or WebP images and PDF documents",
    "att.opening": "Your chat is still opening: please attach the file again in a moment.",
    "att.tooLarge": "“{name}” is too large ({size}). Files can be at most {max}.",
    "att.empty": "“{name}” is empty.",
    "att.type": "“{name}” can't be sent: only {allowed} are accepted.",
    "att.failed": "“{name}” couldn't be sent: {error}",
    "att.unloaded": "{name} (could not be loaded)",
    "att.download": "Download {name}",
    "att.downloadFailed": "“{name}” could not be downloaded.",
    "att.pdf": "PDF · {size}",
    "size.b": "{n} B",
    "size.kb": "{n} KB",
    "size.mb": "{n} MB",
    "start.failed": "Couldn't start the chat: {error}",
    "start.retry": "Couldn't start the chat: please try again.",
    "end.offline": "You're offline: the chat will be ended when you're back online. Please try again in a moment.",
    unavailable: "The chat is not available right now. Please try again later.",
    "error.generic": "Something went wrong.",
    // A limit refused a new chat (docs/security.md, "Anonymous visitors"): whole sentences, in every language.
    "busy.now": "We're very busy right now, please try again in a few minutes.",
    "busy.too_many_chats": "You've started several chats in a short time. Please try again in a few minutes.",
    "error.network": "the connection failed. Check that you are online and try again.",
    "error.status": "the server answered {status}",
    // No "error.<code>" keys in English: the server's own detail is the English text.
  },
  fr: {
    title: "Discutez avec nous",
    subtitle: "Nous répondons en quelques minutes",
    "launcher.open": "Ouvrir la discussion",
    "launcher.close": "Fermer la discussion",
    "launcher.unread": { one: "{label}, {count} message non lu", other: "{label}, {count} messages non lus" },
    "header.transcript": "Recevoir la transcription par e-mail",
    "header.end": "Terminer la discussion",
    "header.minimise": "Réduire",
    "header.minimiseLabel": "Réduire la discussion",
    "status.reconnecting": "Reconnexion…",
    "status.waiting": "En attente d’un conseiller…",
    "status.chatting": "En ligne avec {name}",
    "status.joined": "Un conseiller vous a rejoint",
    "status.ended": "Discussion terminée",
    "prechat.heading": "Bonjour\u00a0! Comment pouvons-nous vous aider\u00a0?",
    "prechat.intro": "Dites-nous qui vous êtes (facultatif) et un conseiller vous répondra dans un instant.",
    "prechat.name": "Votre nom",
    "prechat.email": "E-mail",
    "prechat.start": "Démarrer la discussion",
    "prechat.fine": "Nous conservons un historique de cette discussion pour mieux vous aider.",
    "log.label": "Messages",
    "agent.default": "Conseiller",
    typing: "{name} est en train d’écrire…",
    "ended.heading": "Discussion terminée",
    "ended.text": "Merci d’avoir discuté avec nous. Besoin d’autre chose\u00a0?",
    "ended.new": "Démarrer une nouvelle discussion",
    "ended.transcript": "Recevoir la transcription",
    "notice.dismiss": "Fermer le message",
    "transcript.heading": "Recevoir la transcription par e-mail",
    "transcript.to": "Envoyer une copie de cette discussion à",
    "transcript.send": "Envoyer",
    "transcript.close": "Fermer",
    "transcript.invalid": "Veuillez saisir une adresse e-mail valide.",
    "transcript.sending": "Envoi en cours…",
    "transcript.sent": {
      one: "Transcription envoyée à {email} ({count}\u00a0message).",
      other: "Transcription envoyée à {email} ({count}\u00a0messages).",
    },
    "transcript.failed": "Impossible d’envoyer la transcription\u00a0: {error}",
    "confirm.heading": "Terminer cette discussion\u00a0?",
    "confirm.text": "Vous pourrez en démarrer une nouvelle à tout moment.",
    "confirm.end": "Terminer",
    "confirm.keep": "Continuer",
    "composer.placeholder": "Écrivez un message…",
    "composer.label": "Message",
    "composer.attach": "Joindre une image ou un PDF",
    "composer.send": "Envoyer",
    "composer.sendLabel": "Envoyer le message",
    brand: "Discussion sécurisée",
    "msg.uploading": "Envoi du fichier…",
    "msg.sending": "Envoi…",
    "msg.sent": "Envoyé",
    "msg.seen": "Lu",
    "msg.notSent": "Non envoyé\u00a0: {error}",
    "msg.retry": "Réessayer",
    "msg.retryLabel": "Réessayer l’envoi",
    "msg.chatEnded": "Cette discussion est terminée.",
    "att.allowed": "les images PNG, JPEG, GIF ou WebP et les documents PDF",
    "att.opening": "Votre discussion est en cours d’ouverture\u00a0: joignez à nouveau le fichier dans un instant.",
    "att.tooLarge": "«\u00a0{name}\u00a0» est trop volumineux ({size}). La taille maximale est de {max}.",
    "att.empty": "«\u00a0{name}\u00a0» est vide.",
    "att.type": "«\u00a0{name}\u00a0» ne peut pas être envoyé\u00a0: seuls {allowed} sont acceptés.",
    "att.failed": "«\u00a0{name}\u00a0» n’a pas pu être envoyé\u00a0: {error}",
    "att.unloaded": "{name} (impossible à afficher)",
    "att.download": "Télécharger {name}",
    "att.downloadFailed": "«\u00a0{name}\u00a0» n’a pas pu être téléchargé.",
    "att.pdf": "PDF · {size}",
    "size.b": "{n}\u00a0o",
    "size.kb": "{n}\u00a0Ko",
    "size.mb": "{n}\u00a0Mo",
    "start.failed": "Impossible de démarrer la discussion\u00a0: {error}",
    "start.retry": "Impossible de démarrer la discussion\u00a0: veuillez réessayer.",
    "end.offline": "Vous êtes hors ligne\u00a0: la discussion pourra être terminée une fois la connexion rétablie. Réessayez dans un instant.",
    unavailable: "La discussion n’est pas disponible pour le moment. Veuillez réessayer plus tard.",
    "error.generic": "Une erreur s’est produite.",
    "busy.now": "Nous sommes très sollicités en ce moment, veuillez réessayer dans quelques minutes.",
    "busy.too_many_chats": "Vous avez ouvert plusieurs discussions en peu de temps. Veuillez réessayer dans quelques minutes.",
    "error.too_many_uploads": "trop de fichiers envoyés à la fois\u00a0; patientez un instant.",
    "error.upload_quota": "la limite de fichiers pour cette discussion est atteinte.",
    "error.address_not_on_file": "la transcription ne peut être envoyée qu’à l’adresse indiquée au début de la discussion.",
    "error.too_many_visitors": "le service est très sollicité\u00a0; réessayez dans quelques minutes.",
    "error.network": "la connexion a échoué. Vérifiez que vous êtes en ligne et réessayez.",
    "error.status": "le serveur a répondu {status}",
    "error.rate_limited": "trop de demandes à la fois\u00a0; patientez un instant puis réessayez.",
    "error.queue_not_found": "ce service de discussion n’est pas disponible sur cette page.",
    "error.conversation_closed": "cette discussion est terminée.",
    "error.conversation_not_found": "cette discussion est introuvable.",
    "error.email_unavailable": "l’envoi des transcriptions par e-mail n’est pas configuré ici.",
    "error.email_failed": "l’e-mail n’a pas pu être envoyé\u00a0; réessayez plus tard.",
    "error.too_many_transcripts": "trop de transcriptions demandées\u00a0; réessayez plus tard.",
    "error.empty_file": "le fichier est vide.",
    "error.unsupported_type": "ce type de fichier n’est pas accepté.",
    "error.file_too_large": "le fichier est trop volumineux.",
    "error.internal": "un problème est survenu de notre côté\u00a0; réessayez.",
    "error.invalid_frame": "la demande n’est pas valide.",
    "error.empty_message": "le message est vide.",
    "error.origin_not_allowed": "ce site n’est pas autorisé à utiliser la discussion.",
    "error.forbidden": "cette action n’est pas autorisée.",
  },
  de: {
    title: "Chatten Sie mit uns",
    subtitle: "Antwort meist in wenigen Minuten",
    "launcher.open": "Chat öffnen",
    "launcher.close": "Chat schließen",
    "launcher.unread": { one: "{label}, {count} ungelesene Nachricht", other: "{label}, {count} ungelesene Nachrichten" },
    "header.transcript": "Chatverlauf per E-Mail senden",
    "header.end": "Chat beenden",
    "header.minimise": "Minimieren",
    "header.minimiseLabel": "Chat minimieren",
    "status.reconnecting": "Verbindung wird wiederhergestellt…",
    "status.waiting": "Einen Moment, wir verbinden Sie…",
    "status.chatting": "Im Chat mit {name}",
    "status.joined": "Sie sind jetzt verbunden",
    "status.ended": "Chat beendet",
    "prechat.heading": "Hallo! Wie können wir helfen?",
    "prechat.intro": "Sagen Sie uns, wer Sie sind (beides freiwillig), und wir sind gleich für Sie da.",
    "prechat.name": "Ihr Name",
    "prechat.email": "E-Mail",
    "prechat.start": "Chat starten",
    "prechat.fine": "Wir speichern diesen Chat, um Ihnen besser helfen zu können.",
    "log.label": "Nachrichten",
    "agent.default": "Kundenberatung",
    typing: "{name} schreibt…",
    "ended.heading": "Chat beendet",
    "ended.text": "Danke für Ihre Nachricht. Können wir sonst noch etwas für Sie tun?",
    "ended.new": "Neuen Chat starten",
    "ended.transcript": "Chatverlauf per E-Mail senden",
    "notice.dismiss": "Hinweis schließen",
    "transcript.heading": "Chatverlauf per E-Mail senden",
    "transcript.to": "Eine Kopie dieses Chats senden an",
    "transcript.send": "Verlauf senden",
    "transcript.close": "Schließen",
    "transcript.invalid": "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
    "transcript.sending": "Wird gesendet…",
    "transcript.sent": {
      one: "Chatverlauf an {email} gesendet ({count} Nachricht).",
      other: "Chatverlauf an {email} gesendet ({count} Nachrichten).",
    },
    "transcript.failed": "Der Chatverlauf konnte nicht gesendet werden: {error}",
    "confirm.heading": "Diesen Chat beenden?",
    "confirm.text": "Sie können jederzeit einen neuen Chat starten.",
    "confirm.end": "Chat beenden",
    "confirm.keep": "Weiterchatten",
    "composer.placeholder": "Nachricht schreiben…",
    "composer.label": "Nachricht",
    "composer.attach": "Bild oder PDF anhängen",
    "composer.send": "Senden",
    "composer.sendLabel": "Nachricht senden",
    brand: "Sicherer Chat",
    "msg.uploading": "Wird hochgeladen…",
    "msg.sending": "Wird gesendet…",
    "msg.sent": "Gesendet",
    "msg.seen": "Gelesen",
    "msg.notSent": "Nicht gesendet: {error}",
    "msg.retry": "Erneut versuchen",
    "msg.retryLabel": "Erneut senden",
    "msg.chatEnded": "Dieser Chat ist beendet.",
    "att.allowed": "Bilder im Format PNG, JPEG, GIF oder WebP und PDF-Dokumente",
    "att.opening": "Ihr Chat wird noch geöffnet: Bitte hängen Sie die Datei gleich noch einmal an.",
    "att.tooLarge": "„{name}“ ist zu groß ({size}). Dateien dürfen höchstens {max} groß sein.",
    "att.empty": "„{name}“ ist leer.",
    "att.type": "„{name}“ kann nicht gesendet werden: Erlaubt sind nur {allowed}.",
    "att.failed": "„{name}“ konnte nicht gesendet werden: {error}",
    "att.unloaded": "{name} (konnte nicht geladen werden)",
    "att.download": "{name} herunterladen",
    "att.downloadFailed": "„{name}“ konnte nicht heruntergeladen werden.",
    "att.pdf": "PDF · {size}",
    "size.b": "{n} B",
    "size.kb": "{n} KB",
    "size.mb": "{n} MB",
    "start.failed": "Der Chat konnte nicht gestartet werden: {error}",
    "start.retry": "Der Chat konnte nicht gestartet werden. Bitte versuchen Sie es erneut.",
    "end.offline": "Sie sind offline: Der Chat kann beendet werden, sobald Sie wieder online sind. Bitte versuchen Sie es gleich noch einmal.",
    unavailable: "Der Chat ist gerade nicht verfügbar. Bitte versuchen Sie es später erneut.",
    "error.generic": "Etwas ist schiefgelaufen.",
    "busy.now": "Wir sind gerade sehr ausgelastet. Bitte versuchen Sie es in ein paar Minuten erneut.",
    "busy.too_many_chats": "Sie haben in kurzer Zeit mehrere Chats begonnen. Bitte versuchen Sie es in ein paar Minuten erneut.",
    "error.too_many_uploads": "Zu viele Dateien auf einmal. Bitte warten Sie einen Moment.",
    "error.upload_quota": "Die Dateigrenze für diesen Chat ist erreicht.",
    "error.address_not_on_file": "Der Chatverlauf kann nur an die zu Beginn angegebene Adresse gesendet werden.",
    "error.too_many_visitors": "Wir sind gerade sehr ausgelastet. Bitte versuchen Sie es in ein paar Minuten erneut.",
    "error.network": "Die Verbindung ist fehlgeschlagen. Prüfen Sie, ob Sie online sind, und versuchen Sie es erneut.",
    "error.status": "Der Server antwortete mit {status}.",
    "error.rate_limited": "Zu viele Anfragen auf einmal. Bitte warten Sie einen Moment.",
    "error.queue_not_found": "Dieser Chat ist auf dieser Seite nicht verfügbar.",
    "error.conversation_closed": "Dieser Chat ist beendet.",
    "error.conversation_not_found": "Dieser Chat wurde nicht gefunden.",
    "error.email_unavailable": "Der Versand per E-Mail ist hier nicht eingerichtet.",
    "error.email_failed": "Die E-Mail konnte nicht gesendet werden. Bitte versuchen Sie es später erneut.",
    "error.too_many_transcripts": "Zu viele Chatverläufe angefordert. Bitte versuchen Sie es später erneut.",
    "error.empty_file": "Die Datei ist leer.",
    "error.unsupported_type": "Dieser Dateityp wird nicht unterstützt.",
    "error.file_too_large": "Die Datei ist zu groß.",
    "error.internal": "Bei uns ist ein Fehler aufgetreten. Bitte versuchen Sie es erneut.",
    "error.invalid_frame": "Die Anfrage ist ungültig.",
    "error.empty_message": "Die Nachricht ist leer.",
    "error.origin_not_allowed": "Diese Website darf den Chat nicht verwenden.",
    "error.forbidden": "Das ist nicht erlaubt.",
  },
};
// Languages written right to left: the widget's root gets dir="rtl" when its texts are in one of them.
const WIDGET_RTL = ["ar", "fa", "he", "ps", "ur", "yi"];
const LANG_TAG_MAX = 35; // the server refuses longer tags (contactcenter/channels/chat/schemas.py)

// A BCP 47 tag in its canonical case ("fr-ca" -> "fr-CA"), or null for anything else.
function canonicalLang(raw) {
  if (typeof raw !== "string") return null;
  const s = raw.trim().replace(/_/g, "-");
  if (!s || s.length > LANG_TAG_MAX || !/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(s)) return null;
  try {
    return Intl.getCanonicalLocales(s)[0] || null;
  } catch (e) {
    return null; // not a well-formed tag ("en-a", "x-y"...)
  }
}

// The first usable tag among `sources` (data-lang, <html lang>, navigator.language), else "en".
function chooseLang(sources) {
  for (const raw of sources) {
    const tag = canonicalLang(raw);
    if (tag) return tag;
  }
  return "en";
}

// The texts for `tag`: the most specific table that exists ("fr-CA" -> "fr-ca", "fr"), key by key, then English.
function makeI18n(tag) {
  const chain = [];
  const parts = tag.toLowerCase().split("-");
  for (let i = parts.length; i > 0; i--) {
    const k = parts.slice(0, i).join("-");
    if (WIDGET_TEXTS[k] && !chain.includes(k)) chain.push(k);
  }
  const ui = chain[0] || "en";
  if (!chain.includes("en")) chain.push("en");
  const rules = {};
  function plural(lang, n) {
    try {
      rules[lang] = rules[lang] || new Intl.PluralRules(lang);
      return rules[lang].select(n);
    } catch (e) {
      return n === 1 ? "one" : "other";
    }
  }
  function find(key, params) {
    for (const lang of chain) {
      let v = WIDGET_TEXTS[lang][key];
      if (v == null) continue;
      if (typeof v === "object") v = v[plural(lang, Number(params && params.count))] || v.other;
      if (typeof v === "string") return v;
    }
    return null;
  }
  function t(key, params) {
    const v = find(key, params);
    if (v == null) return key; // a key missing from English too: a bug, shown rather than hidden
    return v.replace(/\{(\w+)\}/g, (m, name) => (params && params[name] != null ? String(params[name]) : m));
  }
  return {
    tag, // what the customer's page asked for: sent to the agent
    ui, // the language the texts are in: the widget's lang attribute
    dir: WIDGET_RTL.includes(ui.split("-")[0]) ? "rtl" : "ltr",
    t,
    has: (key) => find(key, { count: 0 }) != null,
  };
}
