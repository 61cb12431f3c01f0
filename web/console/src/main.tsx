import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { captureMailedToken } from './mailed-token';
import './styles/console.css';

// First thing, before anything renders or loads: the mailed token leaves the address bar and history.
captureMailedToken();

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
  document.body.dataset['ready'] = 'true';
}
