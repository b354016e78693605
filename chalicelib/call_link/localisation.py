# ruff: noqa: RUF001  (translations keep their own letters and punctuation, e.g. Turkish dotless i)
"""The page's system texts in the 14 languages a configuration can choose (Infobip's 13 `LanguageCode`s and
Croatian), and how a language is chosen: PRESET names it; BROWSER_DETECTED takes the best match of the browser's
`Accept-Language` (by language, then region); anything else, or no match, is English.

The configured welcome/inactive/expired texts are the integrator's; while they are Infobip's English defaults, the
page shows them in the chosen language too.
"""

from __future__ import annotations

from chalicelib.call_link.schemas import Localization, Messages

ENGLISH = "en-US"
KEYS = (
    "welcomeText",
    "inactiveText",
    "expirationText",
    "startAudioCall",
    "startVideoCall",
    "joinRoom",
    "yourName",
    "password",
    "wrongPassword",
    "hangUp",
    "mute",
    "camera",
    "shareScreen",
    "layout",
    "chat",
    "send",
    "calling",
    "inCall",
    "callEnded",
    "busy",
    "notFound",
)

_TABLE: dict[str, tuple[str, ...]] = {
    "en-US": (
        "Welcome to Call Link.",
        "This link is not active.",
        "Link is expired.",
        "Start audio call",
        "Start video call",
        "Join",
        "Your name",
        "Password",
        "Wrong password.",
        "Hang up",
        "Mute",
        "Camera",
        "Share screen",
        "Layout",
        "Chat",
        "Send",
        "Calling…",
        "In call",
        "The call has ended.",
        "The line is busy. Please try again later.",
        "This link does not exist.",
    ),
    "ar-AE": (
        "مرحبًا بك في Call Link.",
        "هذا الرابط غير نشط.",
        "انتهت صلاحية الرابط.",
        "بدء مكالمة صوتية",
        "بدء مكالمة فيديو",
        "انضمام",
        "اسمك",
        "كلمة المرور",
        "كلمة مرور خاطئة.",
        "إنهاء المكالمة",
        "كتم الصوت",
        "الكاميرا",
        "مشاركة الشاشة",
        "التخطيط",
        "الدردشة",
        "إرسال",
        "جارٍ الاتصال…",
        "في مكالمة",
        "انتهت المكالمة.",
        "الخط مشغول. يرجى المحاولة لاحقًا.",
        "هذا الرابط غير موجود.",
    ),
    "de-DE": (
        "Willkommen bei Call Link.",
        "Dieser Link ist nicht aktiv.",
        "Der Link ist abgelaufen.",
        "Audioanruf starten",
        "Videoanruf starten",
        "Beitreten",
        "Ihr Name",
        "Passwort",
        "Falsches Passwort.",
        "Auflegen",
        "Stummschalten",
        "Kamera",
        "Bildschirm teilen",
        "Layout",
        "Chat",
        "Senden",
        "Anruf wird aufgebaut…",
        "Im Gespräch",
        "Der Anruf ist beendet.",
        "Die Leitung ist besetzt. Bitte versuchen Sie es später.",
        "Diesen Link gibt es nicht.",
    ),
    "es-LA": (
        "Bienvenido a Call Link.",
        "Este enlace no está activo.",
        "El enlace ha caducado.",
        "Iniciar llamada de audio",
        "Iniciar videollamada",
        "Unirse",
        "Tu nombre",
        "Contraseña",
        "Contraseña incorrecta.",
        "Colgar",
        "Silenciar",
        "Cámara",
        "Compartir pantalla",
        "Diseño",
        "Chat",
        "Enviar",
        "Llamando…",
        "En llamada",
        "La llamada ha terminado.",
        "La línea está ocupada. Inténtalo más tarde.",
        "Este enlace no existe.",
    ),
    "fr-FR": (
        "Bienvenue sur Call Link.",
        "Ce lien n'est pas actif.",
        "Le lien a expiré.",
        "Démarrer un appel audio",
        "Démarrer un appel vidéo",
        "Rejoindre",
        "Votre nom",
        "Mot de passe",
        "Mot de passe incorrect.",
        "Raccrocher",
        "Couper le micro",
        "Caméra",
        "Partager l'écran",
        "Disposition",
        "Discussion",
        "Envoyer",
        "Appel en cours…",
        "En communication",
        "L'appel est terminé.",
        "La ligne est occupée. Réessayez plus tard.",
        "Ce lien n'existe pas.",
    ),
    "hr-HR": (
        "Dobro došli na Call Link.",
        "Ova poveznica nije aktivna.",
        "Poveznica je istekla.",
        "Započni glasovni poziv",
        "Započni videopoziv",
        "Pridruži se",
        "Vaše ime",
        "Lozinka",
        "Pogrešna lozinka.",
        "Prekini",
        "Isključi zvuk",
        "Kamera",
        "Dijeli zaslon",
        "Raspored",
        "Chat",
        "Pošalji",
        "Pozivanje…",
        "U pozivu",
        "Poziv je završen.",
        "Linija je zauzeta. Pokušajte kasnije.",
        "Ova poveznica ne postoji.",
    ),
    "it-IT": (
        "Benvenuto in Call Link.",
        "Questo link non è attivo.",
        "Il link è scaduto.",
        "Avvia chiamata audio",
        "Avvia videochiamata",
        "Partecipa",
        "Il tuo nome",
        "Password",
        "Password errata.",
        "Riaggancia",
        "Disattiva audio",
        "Fotocamera",
        "Condividi schermo",
        "Layout",
        "Chat",
        "Invia",
        "Chiamata in corso…",
        "In chiamata",
        "La chiamata è terminata.",
        "La linea è occupata. Riprova più tardi.",
        "Questo link non esiste.",
    ),
    "ja-JP": (
        "Call Link へようこそ。",
        "このリンクは有効ではありません。",
        "リンクの有効期限が切れています。",
        "音声通話を開始",
        "ビデオ通話を開始",
        "参加",
        "お名前",
        "パスワード",
        "パスワードが違います。",
        "通話を終了",
        "ミュート",
        "カメラ",
        "画面を共有",
        "レイアウト",
        "チャット",
        "送信",
        "発信中…",
        "通話中",
        "通話が終了しました。",
        "話し中です。後でもう一度お試しください。",
        "このリンクは存在しません。",
    ),
    "pt-BR": (
        "Bem-vindo ao Call Link.",
        "Este link não está ativo.",
        "O link expirou.",
        "Iniciar chamada de áudio",
        "Iniciar chamada de vídeo",
        "Entrar",
        "Seu nome",
        "Senha",
        "Senha incorreta.",
        "Desligar",
        "Silenciar",
        "Câmera",
        "Compartilhar tela",
        "Layout",
        "Chat",
        "Enviar",
        "Chamando…",
        "Em chamada",
        "A chamada terminou.",
        "A linha está ocupada. Tente mais tarde.",
        "Este link não existe.",
    ),
    "ru-RU": (
        "Добро пожаловать в Call Link.",
        "Эта ссылка не активна.",
        "Срок действия ссылки истёк.",
        "Начать аудиозвонок",
        "Начать видеозвонок",
        "Присоединиться",
        "Ваше имя",
        "Пароль",
        "Неверный пароль.",
        "Завершить",
        "Выключить микрофон",
        "Камера",
        "Показать экран",
        "Раскладка",
        "Чат",
        "Отправить",
        "Вызов…",
        "Идёт звонок",
        "Звонок завершён.",
        "Линия занята. Попробуйте позже.",
        "Такой ссылки не существует.",
    ),
    "sv-SE": (
        "Välkommen till Call Link.",
        "Den här länken är inte aktiv.",
        "Länken har gått ut.",
        "Starta röstsamtal",
        "Starta videosamtal",
        "Gå med",
        "Ditt namn",
        "Lösenord",
        "Fel lösenord.",
        "Lägg på",
        "Stäng av ljud",
        "Kamera",
        "Dela skärm",
        "Layout",
        "Chatt",
        "Skicka",
        "Ringer…",
        "I samtal",
        "Samtalet har avslutats.",
        "Linjen är upptagen. Försök igen senare.",
        "Den här länken finns inte.",
    ),
    "tr-TR": (
        "Call Link'e hoş geldiniz.",
        "Bu bağlantı etkin değil.",
        "Bağlantının süresi doldu.",
        "Sesli arama başlat",
        "Görüntülü arama başlat",
        "Katıl",
        "Adınız",
        "Parola",
        "Yanlış parola.",
        "Kapat",
        "Sesi kapat",
        "Kamera",
        "Ekranı paylaş",
        "Düzen",
        "Sohbet",
        "Gönder",
        "Aranıyor…",
        "Görüşmede",
        "Görüşme sona erdi.",
        "Hat meşgul. Lütfen daha sonra deneyin.",
        "Bu bağlantı mevcut değil.",
    ),
    "zh-Hans": (
        "欢迎使用 Call Link。",
        "此链接未激活。",
        "链接已过期。",
        "开始语音通话",
        "开始视频通话",
        "加入",
        "您的姓名",
        "密码",
        "密码错误。",
        "挂断",
        "静音",
        "摄像头",
        "共享屏幕",
        "布局",
        "聊天",
        "发送",
        "正在呼叫…",
        "通话中",
        "通话已结束。",
        "线路忙，请稍后再试。",
        "此链接不存在。",
    ),
    "zh-TW": (
        "歡迎使用 Call Link。",
        "此連結未啟用。",
        "連結已過期。",
        "開始語音通話",
        "開始視訊通話",
        "加入",
        "您的名稱",
        "密碼",
        "密碼錯誤。",
        "掛斷",
        "靜音",
        "攝影機",
        "分享螢幕",
        "版面配置",
        "聊天",
        "傳送",
        "正在撥號…",
        "通話中",
        "通話已結束。",
        "線路忙碌中，請稍後再試。",
        "此連結不存在。",
    ),
}
LANGUAGES = tuple(_TABLE)
DEFAULT_MESSAGES = Messages()


def texts(language: str) -> dict[str, str]:
    return dict(zip(KEYS, _TABLE.get(language, _TABLE[ENGLISH]), strict=True))


def _accepted(accept_language: str | None) -> list[str]:
    """The browser's languages, most preferred first (q-values honoured, q=0 dropped)."""
    ranked: list[tuple[float, int, str]] = []
    for index, entry in enumerate((accept_language or "").split(",")):
        tag, _, params = entry.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, index, tag.lower()))
    return [tag for _, _, tag in sorted(ranked)]


def _match(tag: str) -> str | None:
    exact = {code.lower(): code for code in LANGUAGES}
    if tag in exact:
        return exact[tag]
    if tag in ("zh-cn", "zh-sg", "zh-hans-cn") or tag.startswith("zh-hans"):
        return "zh-Hans"
    if tag in ("zh-hk", "zh-mo") or tag.startswith("zh-hant"):
        return "zh-TW"
    if tag.startswith("es-") or tag == "es":
        return "es-LA"
    primary = tag.split("-", 1)[0]
    return next((code for code in LANGUAGES if code.lower().split("-", 1)[0] == primary), None)


def choose(localization: Localization | None, accept_language: str | None) -> str:
    if localization is None:
        return ENGLISH
    if localization.type == "PRESET" and localization.languageCode:
        return localization.languageCode
    for tag in _accepted(accept_language):
        found = _match(tag)
        if found:
            return found
    return ENGLISH


def page_messages(messages: Messages, language: str) -> dict[str, str]:
    """The three configured texts, localised where the configuration kept Infobip's English default."""
    system = texts(language)
    return {
        key: system[key] if getattr(messages, key) == getattr(DEFAULT_MESSAGES, key) else getattr(messages, key)
        for key in ("welcomeText", "inactiveText", "expirationText")
    }
