/** The dashboard page: no inline script or style, so the CSP can forbid both. */
export const INDEX_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>berth</title>
<link rel="icon" href="/ui/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/ui/app.css">
<script src="/ui/app.js" defer></script>
</head>
<body>
<header>
  <div><h1>berth</h1><span id="live" class="badge warn">connecting&#x2026;</span></div>
  <div id="summary" aria-live="polite"></div>
</header>
<main id="content"><p class="muted">Waiting for the status feed&#x2026;</p></main>
</body>
</html>
`;
