/** Stylesheets imported for their side effect; vite emits them as a CSS file (no inline styles). */
declare module '*.css';
