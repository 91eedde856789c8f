import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connectToHost } from './host/connect-to-host.js';
import { App } from './components/App.js';
import { HostProblem } from './components/HostProblem.js';
import { createHcmStore } from './state/store.js';
import { HcmStoreContext } from './state/use-hcm.js';

const root = createRoot(document.getElementById('root')!);
const lookup = connectToHost();
if (lookup.ok) {
  const store = createHcmStore(lookup.host);
  root.render(
    <StrictMode>
      <HcmStoreContext.Provider value={store}>
        <App />
      </HcmStoreContext.Provider>
    </StrictMode>,
  );
} else {
  root.render(<HostProblem problem={lookup.problem} />);
}
