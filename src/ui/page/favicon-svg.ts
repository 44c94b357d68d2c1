/** The tab icon (served, so the browser does not ask for a missing /favicon.ico). */
export const FAVICON_SVG = String.raw`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0969da"/><path d="M3 11h10l-2 3H5z M7 3h2v7H7z" fill="#fff"/></svg>
`;
