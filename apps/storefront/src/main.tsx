import { TicketPulseProvider } from '@ticketpulse/react';
import '@ticketpulse/react/styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import { buyerManagerOptions } from './realtime.ts';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html needs a #root element');

createRoot(root).render(
  <StrictMode>
    <TicketPulseProvider options={buyerManagerOptions()}>
      <App />
    </TicketPulseProvider>
  </StrictMode>,
);
