import { QueryClientProvider } from '@tanstack/react-query';
import { TicketPulseProvider } from '@ticketpulse/react';
import '@ticketpulse/react/styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import { isPersisted } from './queries.ts';
import { createQueryClient } from './query-client.ts';
import { persistQueries } from './query-persistence.ts';
import { buyerManagerOptions } from './realtime.ts';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html needs a #root element');

const queryClient = createQueryClient();
persistQueries(queryClient, isPersisted);

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <TicketPulseProvider options={buyerManagerOptions()}>
        <App />
      </TicketPulseProvider>
    </QueryClientProvider>
  </StrictMode>,
);
