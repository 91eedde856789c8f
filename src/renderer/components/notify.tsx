import { Toast, ToastBody, ToastTitle, useToastController } from '@fluentui/react-components';
import { useCallback } from 'react';
import { forPeople } from '../messages.js';

export const TOASTER_ID = 'hcm-toaster';

/** Short confirmations and failures of actions, shown as Fluent toasts (announced politely). */
export function useNotify() {
  const { dispatchToast } = useToastController(TOASTER_ID);
  return useCallback(
    (intent: 'success' | 'error' | 'info', title: string, body?: string) =>
      dispatchToast(
        <Toast>
          <ToastTitle>{title}</ToastTitle>
          {body && <ToastBody>{intent === 'error' ? forPeople(body) : body}</ToastBody>}
        </Toast>,
        { intent, timeout: intent === 'error' ? 8000 : 4000 },
      ),
    [dispatchToast],
  );
}
