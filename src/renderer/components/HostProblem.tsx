import { Body1, FluentProvider, MessageBar, MessageBarBody, MessageBarTitle, makeStyles, tokens } from '@fluentui/react-components';
import { useOsTheme } from '../theme.js';

const useStyles = makeStyles({
  page: { minHeight: '100vh' },
  root: { padding: tokens.spacingHorizontalXXL, maxWidth: '48rem', display: 'grid', gap: tokens.spacingVerticalL },
  code: { fontFamily: tokens.fontFamilyMonospace },
});

/** When the page was opened without the token: say how to get in, instead of a blank screen. */
export function HostProblem({ problem }: { problem: string }) {
  const styles = useStyles();
  const { theme } = useOsTheme();
  return (
    <FluentProvider theme={theme} className={styles.page}>
      <main className={styles.root}>
        <MessageBar intent="warning" layout="multiline">
          <MessageBarBody>
            <MessageBarTitle>Cannot reach the HCM host</MessageBarTitle>
            {problem}
          </MessageBarBody>
        </MessageBar>
        <Body1>
          Run <span className={styles.code}>hcm ui</span> on this machine and open the address it prints. The address carries a one-time
          token that keeps other local programs and websites out.
        </Body1>
      </main>
    </FluentProvider>
  );
}
