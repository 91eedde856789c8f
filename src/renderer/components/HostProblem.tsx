import { Body1, FluentProvider, makeStyles, tokens } from '@fluentui/react-components';
import { useOsTheme } from '../theme.js';
import { Banner } from './Banner.js';

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
        <Banner intent="warning" title="Cannot reach the HCM host">
          {problem}
        </Banner>
        <Body1>
          Run <span className={styles.code}>hcm ui</span> on this machine and open the address it prints. The address carries a one-time
          token that keeps other local programs and websites out.
        </Body1>
      </main>
    </FluentProvider>
  );
}
