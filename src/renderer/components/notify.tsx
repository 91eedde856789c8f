import { Toast, ToastBody, ToastTitle, useToastController } from '@fluentui/react-components';
import { useCallback } from 'react';
import { codeOf, errorHeading, messageOf } from '../errors.js';
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

/**
 * A failed action as a toast. When the host's error carries a code, its title (ERROR_TITLES) is
 * the heading, the message the body, and what was being done the line under it; without a code,
 * what was being done is the heading.
 */
export function useNotifyError() {
  const { dispatchToast } = useToastController(TOASTER_ID);
  return useCallback(
    (what: string, err: unknown) => {
      const coded = codeOf(err) !== null;
      dispatchToast(
        <Toast data-error-code={codeOf(err) ?? undefined}>
          <ToastTitle>{errorHeading(err, what)}</ToastTitle>
          <ToastBody subtitle={coded ? what : undefined}>{forPeople(messageOf(err))}</ToastBody>
        </Toast>,
        { intent: 'error', timeout: 8000 },
      );
    },
    [dispatchToast],
  );
}
