package storetest

// catalogueCategory is a leaf of the generated category tree with the words its gigs
// are written from. Share is its part of the catalogue (the shares add up to about 1).
type catalogueCategory struct {
	Parent, Slug, Name string
	Share              float64
	Nouns, Tags        []string
}

// catalogueParents are the top-level categories: slug, name and the verbs of their titles.
var catalogueParents = []struct {
	Slug, Name string
	Verbs      []string
}{
	{"graphics-design", "Graphics & Design", []string{"design", "create", "draw", "make", "craft"}},
	{"programming-tech", "Programming & Tech", []string{"build", "develop", "create", "fix", "code"}},
	{"video-animation", "Video & Animation", []string{"edit", "create", "produce", "animate"}},
	{"writing-translation", "Writing & Translation", []string{"write", "translate", "proofread", "edit"}},
	{"digital-marketing", "Digital Marketing", []string{"do", "manage", "grow", "run", "optimize"}},
	{"music-audio", "Music & Audio", []string{"record", "mix", "master", "produce"}},
	{"business", "Business", []string{"write", "prepare", "research", "handle"}},
}

var catalogueCategories = []catalogueCategory{
	{"graphics-design", "logo-design", "Logo Design", 0.15,
		[]string{"logo", "logo design", "minimalist logo", "business logo", "emblem logo", "monogram logo", "mascot logo", "wordmark logo", "signature logo"},
		[]string{"logo design", "minimalist logo", "brand identity", "business logo", "custom logo", "vintage logo", "mascot logo", "flat logo"}},
	{"graphics-design", "brand-identity", "Brand Identity", 0.06,
		[]string{"brand identity", "brand style guide", "brand kit", "business card design", "letterhead design", "stationery design"},
		[]string{"brand identity", "style guide", "business card", "logo design", "branding", "stationery"}},
	{"graphics-design", "illustration", "Illustration", 0.05,
		[]string{"illustration", "portrait illustration", "character design", "children book illustration", "comic art", "cartoon portrait", "anime art"},
		[]string{"illustration", "character design", "cartoon", "anime", "digital art", "children book"}},
	{"graphics-design", "web-ui-design", "Website & App Design", 0.06,
		[]string{"landing page design", "website design", "mobile app ui design", "dashboard ui design", "figma prototype", "ux design"},
		[]string{"web design", "ui ux design", "figma", "landing page", "app design", "website mockup"}},
	{"graphics-design", "print-design", "Print Design", 0.03,
		[]string{"flyer design", "poster design", "brochure design", "menu design", "banner design", "packaging design", "label design"},
		[]string{"flyer design", "poster", "brochure", "packaging design", "label design", "print design"}},
	{"graphics-design", "social-media-design", "Social Media Design", 0.04,
		[]string{"instagram post design", "social media banner", "youtube thumbnail", "pinterest pin design", "facebook cover design"},
		[]string{"social media design", "instagram post", "youtube thumbnail", "canva", "banner design"}},
	{"programming-tech", "website-development", "Website Development", 0.07,
		[]string{"website", "wordpress website", "shopify store", "ecommerce website", "business website", "portfolio website", "webflow website"},
		[]string{"wordpress", "website development", "shopify", "ecommerce", "web developer", "responsive website"}},
	{"programming-tech", "web-apps", "Web Applications", 0.04,
		[]string{"web app", "react app", "rest api", "backend", "saas platform", "admin dashboard"},
		[]string{"react", "nodejs", "api development", "saas", "full stack", "django"}},
	{"programming-tech", "mobile-apps", "Mobile Apps", 0.03,
		[]string{"mobile app", "ios app", "android app", "flutter app", "react native app"},
		[]string{"mobile app", "flutter", "ios", "android", "app development"}},
	{"programming-tech", "bug-fixes", "Bug Fixes & Automation", 0.02,
		[]string{"website bug fix", "page speed optimization", "wordpress error fix", "python script", "automation script"},
		[]string{"bug fix", "python", "automation", "website speed", "wordpress fix"}},
	{"programming-tech", "data-science", "Data & Analytics", 0.02,
		[]string{"data analysis", "machine learning model", "power bi dashboard", "excel spreadsheet", "data visualization"},
		[]string{"data analysis", "excel", "machine learning", "power bi", "python"}},
	{"video-animation", "video-editing", "Video Editing", 0.04,
		[]string{"video editing", "youtube video edit", "instagram reels", "wedding video", "promo video"},
		[]string{"video editing", "youtube", "reels", "premiere pro", "short form video"}},
	{"video-animation", "logo-animation", "Logo Animation", 0.03,
		[]string{"logo animation", "animated logo", "intro video", "logo reveal", "outro animation"},
		[]string{"logo animation", "intro", "logo reveal", "after effects", "motion graphics"}},
	{"video-animation", "explainer-videos", "Explainer Videos", 0.02,
		[]string{"explainer video", "whiteboard animation", "2d animation", "motion graphics video"},
		[]string{"explainer video", "animation", "whiteboard", "motion graphics", "2d animation"}},
	{"writing-translation", "articles-blog-posts", "Articles & Blog Posts", 0.04,
		[]string{"blog post", "seo article", "website content", "long form article"},
		[]string{"blog writing", "seo writing", "content writing", "article", "copywriting"}},
	{"writing-translation", "copywriting", "Copywriting", 0.03,
		[]string{"sales copy", "product description", "email copy", "ad copy", "website copy"},
		[]string{"copywriting", "sales page", "product description", "ad copy", "email copy"}},
	{"writing-translation", "translation", "Translation", 0.03,
		[]string{"english to spanish translation", "german translation", "french translation", "japanese translation", "document translation"},
		[]string{"translation", "spanish", "german", "french", "localization"}},
	{"writing-translation", "proofreading", "Proofreading & Editing", 0.02,
		[]string{"proofreading", "book editing", "resume", "cover letter", "academic editing"},
		[]string{"proofreading", "editing", "resume writing", "cover letter", "grammar"}},
	{"digital-marketing", "seo", "Search Engine Optimization", 0.04,
		[]string{"seo audit", "backlinks", "keyword research", "on page seo", "local seo"},
		[]string{"seo", "backlinks", "keyword research", "google ranking", "local seo"}},
	{"digital-marketing", "social-media-marketing", "Social Media Marketing", 0.03,
		[]string{"social media marketing", "instagram growth", "facebook ads campaign", "tiktok marketing"},
		[]string{"social media marketing", "instagram", "facebook ads", "tiktok", "marketing strategy"}},
	{"digital-marketing", "email-marketing", "Email Marketing", 0.02,
		[]string{"email marketing campaign", "newsletter", "mailchimp campaign", "klaviyo flows"},
		[]string{"email marketing", "mailchimp", "klaviyo", "newsletter", "automation"}},
	{"music-audio", "voice-over", "Voice Over", 0.02,
		[]string{"voice over", "british voice over", "audiobook narration", "commercial voice over"},
		[]string{"voice over", "narration", "audiobook", "british accent", "commercial"}},
	{"music-audio", "mixing-mastering", "Mixing & Mastering", 0.02,
		[]string{"mixing and mastering", "song mastering", "vocal tuning", "beat production"},
		[]string{"mixing", "mastering", "music production", "vocals", "beats"}},
	{"music-audio", "podcast-editing", "Podcast Editing", 0.01,
		[]string{"podcast editing", "audio cleanup", "podcast intro"},
		[]string{"podcast", "audio editing", "noise removal", "intro music"}},
	{"business", "virtual-assistant", "Virtual Assistant", 0.02,
		[]string{"virtual assistant", "data entry", "lead generation", "customer support"},
		[]string{"virtual assistant", "data entry", "lead generation", "admin support"}},
	{"business", "business-plans", "Business Plans", 0.02,
		[]string{"business plan", "pitch deck", "financial model", "investor presentation"},
		[]string{"business plan", "pitch deck", "startup", "financial model", "presentation design"}},
	{"business", "market-research", "Market Research", 0.01,
		[]string{"market research", "competitor analysis", "survey analysis"},
		[]string{"market research", "competitor analysis", "survey", "business analysis"}},
}

var catalogueAdjectives = []string{
	"modern", "minimalist", "professional", "unique", "custom", "creative", "clean", "elegant",
	"stunning", "responsive", "high quality", "fast", "premium", "flat", "vintage", "luxury",
	"hand drawn", "3d", "simple", "eye catching", "engaging", "affordable", "bold", "original",
}

var catalogueTargets = []string{
	"business", "brand", "startup", "company", "website", "online store", "youtube channel",
	"podcast", "restaurant", "app", "book", "product", "event", "agency", "shop", "real estate business",
	"fitness brand", "coffee shop", "clothing brand", "nonprofit", "church", "law firm", "dental clinic",
}

var catalogueTools = []string{
	"Figma", "Photoshop", "Illustrator", "WordPress", "Shopify", "Webflow", "Canva", "Blender",
	"Premiere Pro", "After Effects", "Excel", "Python", "Django", "Laravel", "React", "Vue",
	"Flutter", "Procreate", "InDesign", "Final Cut", "Logic Pro", "Ableton", "HubSpot", "Notion",
}

// catalogueCommon is everyday English that descriptions are padded with, most common
// first (words are drawn with a Zipf law over this order).
var catalogueCommon = []string{
	"quality", "work", "project", "service", "experience", "client", "time", "delivery", "files",
	"revision", "order", "support", "results", "team", "style", "ideas", "details", "process",
	"communication", "satisfaction", "guarantee", "format", "source", "commercial", "rights",
	"request", "questions", "message", "budget", "deadline", "feedback", "option", "package",
	"concept", "draft", "final", "version", "resolution", "vector", "print", "online", "social",
	"media", "customer", "audience", "market", "growth", "strategy", "research", "content",
	"professional", "years", "portfolio", "samples", "reviews", "happy", "friendly", "reliable",
	"creative", "skilled", "expert", "certified", "native", "fluent", "accurate", "original",
	"unlimited", "express", "priority", "standard", "basic", "premium", "bonus", "extra",
	"color", "palette", "typography", "font", "layout", "template", "mockup", "presentation",
	"image", "photo", "graphic", "banner", "icon", "animation", "sound", "music", "voice",
	"script", "story", "article", "copy", "headline", "keyword", "ranking", "traffic", "sales",
	"conversion", "campaign", "email", "newsletter", "account", "profile", "channel", "page",
	"platform", "mobile", "desktop", "responsive", "secure", "optimized", "speed", "performance",
	"database", "server", "hosting", "domain", "plugin", "theme", "integration", "payment",
	"checkout", "inventory", "catalog", "dashboard", "report", "analysis", "chart", "insight",
	"plan", "model", "forecast", "pitch", "investor", "funding", "launch", "roadmap", "brandbook",
	"guideline", "manual", "handbook", "workshop", "consultation", "call", "meeting", "schedule",
	"weekend", "holiday", "timezone", "worldwide", "international", "local", "community",
	"passion", "attention", "care", "love", "trust", "honest", "transparent", "refund", "policy",
	"copyright", "license", "ownership", "confidential", "privacy", "agreement", "contract",
	"invoice", "milestone", "step", "stage", "phase", "review", "approval", "change", "update",
	"maintenance", "backup", "migration", "upgrade", "testing", "launching", "training", "tutorial",
	"guide", "tips", "advice", "coaching", "mentoring", "lesson", "course", "class", "session",
}
